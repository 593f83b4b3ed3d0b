import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBase36, newSwarmId, SWARM_ID_PATTERN, toBase36 } from './ids.js';

test('swarm ids are 25 lowercase base-36 characters and differ each time', () => {
  const ids = new Set(Array.from({ length: 200 }, () => newSwarmId()));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, SWARM_ID_PATTERN);
});

test('newSwarmId keeps digits 1..25 of the 17 random bytes with the top bit set, as identity.NewID', () => {
  // 2^136 - 1 in base 36 is 2zrw1727u0mgg6ugs60vxe42e4f; the leading digit is dropped
  assert.equal(newSwarmId((n) => Buffer.alloc(n, 0xff)), 'zrw1727u0mgg6ugs60vxe42e4');
  // all zero bytes still give 25 characters, because the top bit is forced on (0x80 << 128)
  assert.equal(newSwarmId((n) => Buffer.alloc(n, 0)), 'hvy0lj3x0b883f8e30fyp2172');
});

test('base 36 pads on the left like Go %0*s and reads either case', () => {
  assert.equal(toBase36(2n ** 128n - 1n, 25), 'f5lxx1zz5pnorynqglhzmsp33');
  assert.equal(toBase36(35n, 4), '000z');
  assert.equal(fromBase36('00Zz'), 35n * 36n + 35n);
  assert.equal(fromBase36('not-base36'), undefined);
});
