import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpDate, isoString } from './utc-text.js';

function times(): number[] {
  const cases = [0, 1, -1, 999, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 4_107_542_400_000 /* 2100-03-01 */,
    1_764_979_200_123, -62_167_219_200_000, 253_402_300_799_999, 1_700_000_000_000.7, -1_000.5];
  let seed = 7;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    cases.push(Math.round((seed / 2 ** 31) * 1.3 * 253_402_300_799_999) - 0.15 * 253_402_300_799_999);
  }
  return cases;
}

test('isoString reads as Date.prototype.toISOString, years 0-9999 and beyond', () => {
  for (const ms of times()) assert.equal(isoString(ms), new Date(ms).toISOString(), `ms=${ms}`);
  assert.equal(isoString(253_402_300_800_000), '+010000-01-01T00:00:00.000Z');
  assert.equal(isoString(-62_167_219_200_001), '-000001-12-31T23:59:59.999Z');
  assert.throws(() => isoString(Number.NaN), RangeError);
});

test('httpDate reads as Date.prototype.toUTCString (an HTTP Date header)', () => {
  for (const ms of times()) assert.equal(httpDate(ms), new Date(ms).toUTCString(), `ms=${ms}`);
  assert.equal(httpDate(784_111_777_000), 'Sun, 06 Nov 1994 08:49:37 GMT');
});
