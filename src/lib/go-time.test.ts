import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration, timestampMs } from './go-time.js';

test('parseGoDuration accepts what time.ParseDuration accepts, and nothing else', () => {
  const ok: [string, number][] = [['0', 0], ['1h30m', 5400e9], ['1.5s', 1.5e9], ['-2m', -120e9], ['+5ms', 5e6], ['300us', 300e3], ['1µs', 1e3], ['1μs', 1e3], ['.5h', 1800e9], ['1h1m1s1ms1us1ns', 3661001001001], ['2h45m', 9900e9]];
  for (const [s, ns] of ok) assert.equal(parseGoDuration(s), ns, s);
  for (const bad of ['', '1', '1d', 'h', '.s', '1h 30m', '1.2.3s', '-', 'abc', '10M']) assert.equal(parseGoDuration(bad), undefined, bad);
});

test('formatGoDuration prints as Duration.String()', () => {
  assert.deepEqual([0, 1, 1500, 500e6, 1e9, 30e9, 90e9, 3600e9, 1.5e9, -2e9].map(formatGoDuration), ['0s', '1ns', '1.5µs', '500ms', '1s', '30s', '1m30s', '1h0m0s', '1.5s', '-2s']);
});

test('timestampMs: unix seconds, a duration ago, RFC 3339', () => {
  const now = 1_700_000_000_000;
  assert.equal(timestampMs('1700000000.5', now), 1_700_000_000_500);
  assert.equal(timestampMs('1h30m', now), now - 5_400_000);
  assert.equal(timestampMs('2023-11-14T22:13:20Z', now), 1_700_000_000_000);
  assert.equal(timestampMs('yesterday', now), undefined);
});
