import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, fromHumanSize, humanDuration, humanSize, humanSizeWithPrecision, ramInBytes } from './units.js';

test('humanSize: decimal units, 4 significant digits, no trailing zeros', () => {
  const cases: Array<[number, string]> = [
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [1024, '1.024kB'],
    [1980000, '1.98MB'],
    [123456789, '123.5MB'],
    [187_000_000, '187MB'],
    [999_999, '1000kB'], // rounds up within the unit, as go-units does
    [1e12, '1TB'],
    [5.5e15, '5.5PB'],
    [1e30, '1e+06YB'],
    [-1, '-1B'],
    [0.5, '0.5B'],
  ];
  for (const [n, s] of cases) assert.equal(humanSize(n), s, String(n));
  assert.equal(humanSizeWithPrecision(1234567, 3), '1.23MB');
  assert.equal(humanSizeWithPrecision(1250, 2), '1.2kB'); // exact halves round to even
  assert.equal(humanSizeWithPrecision(1350, 2), '1.4kB');
});

test('bytesSize: binary units', () => {
  const cases: Array<[number, string]> = [
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1KiB'],
    [1536, '1.5KiB'],
    [1.5 * 2 ** 30, '1.5GiB'],
    [44 * 2 ** 10, '44KiB'],
    [17 * 2 ** 20 + 1, '17MiB'],
    [2 ** 50, '1PiB'],
  ];
  for (const [n, s] of cases) assert.equal(bytesSize(n), s, String(n));
});

test('humanDuration: the ages docker prints', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: Array<[number, string]> = [
    [-5 * s, 'Less than a second'],
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [1999, '1 second'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * m, '2 minutes'],
    [59 * m + 59 * s, '59 minutes'],
    [60 * m, 'About an hour'],
    [89 * m, 'About an hour'],
    [90 * m, '2 hours'],
    [47 * h, '47 hours'],
    [47.5 * h, '2 days'],
    [13 * d, '13 days'],
    [14 * d, '2 weeks'],
    [59 * d, '8 weeks'],
    [60 * d, '2 months'],
    [729 * d, '24 months'],
    [730 * d, '2 years'],
    [3650 * d, '10 years'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms} ms`);
});

test('fromHumanSize and ramInBytes parse sizes like go-units', () => {
  assert.equal(fromHumanSize('32'), 32);
  assert.equal(fromHumanSize('32b'), 32);
  assert.equal(fromHumanSize('32 B'), 32);
  assert.equal(fromHumanSize('32k'), 32_000);
  assert.equal(fromHumanSize('32KB'), 32_000);
  assert.equal(fromHumanSize('32kib'), 32_000);
  assert.equal(fromHumanSize('1.5m'), 1_500_000);
  assert.equal(ramInBytes('512m'), 512 * 2 ** 20);
  assert.equal(ramInBytes('1.5g'), 1.5 * 2 ** 30);
  assert.equal(ramInBytes('2GiB'), 2 * 2 ** 30);
  assert.equal(ramInBytes('10.5'), 10);
  assert.throws(() => fromHumanSize('-1'), { message: "invalid size: '-1'" });
  assert.throws(() => fromHumanSize('a'), { message: "invalid size: 'a'" });
  assert.throws(() => ramInBytes('32x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => ramInBytes('32kbb'), { message: "invalid suffix: 'kbb'" });
  assert.throws(() => ramInBytes('32bb'), { message: "invalid suffix: 'bb'" });
});
