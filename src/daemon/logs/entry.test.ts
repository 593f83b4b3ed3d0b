import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, MAX_LINE, nowNs, parseTimeNs, rfc3339Nano } from './entry.js';

test('timestamps are RFC 3339 with nine digits and round-trip', () => {
  const ns = nowNs();
  const t = rfc3339Nano(ns);
  assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.ok(Math.abs(Date.parse(t) - Date.now()) < 5000, `${t} is not now`);
  assert.equal(parseTimeNs(t), ns);
  assert.equal(parseTimeNs('2026-11-22T08:04:44.05Z'), 1795334684050000000n);
});

test('line splitter keeps lines whole across chunks and splits long ones', () => {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l.toString()));
  s.push(Buffer.from('hel'));
  s.push(Buffer.from('lo\nwor'));
  s.push(Buffer.from('ld\n'));
  s.push(Buffer.from('tail'));
  s.end();
  assert.deepEqual(out, ['hello\n', 'world\n', 'tail']);
  const long: Buffer[] = [];
  const s2 = new LineSplitter((l) => long.push(l));
  s2.push(Buffer.alloc(MAX_LINE * 2 + 10, 'x'));
  s2.push(Buffer.from('\n'));
  assert.deepEqual(long.map((b) => b.length), [MAX_LINE, MAX_LINE, 11]);
});
