import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountId, MountRefs } from './mount-refs.js';

test('mount ids: one per container mount point, stable, 64 hex digits like Docker\'s', () => {
  const a = mountId('c1', '/data');
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(mountId('c1', '/data'), a);
  assert.notEqual(mountId('c1', '/other'), a);
  assert.notEqual(mountId('c2', '/data'), a);
});

test('refs pair Mount and Unmount: no second Mount for a held id, no Unmount for one never mounted', () => {
  const r = new MountRefs();
  assert.equal(r.add('v', 'a'), true);
  assert.equal(r.add('v', 'a'), false);
  assert.equal(r.add('v', 'b'), true);
  assert.equal(r.count('v'), 2);
  assert.equal(r.remove('v', 'never'), false);
  assert.equal(r.remove('v', 'a'), true);
  assert.equal(r.remove('v', 'a'), false);
  assert.equal(r.has('v', 'b'), true);
  assert.equal(r.remove('v', 'b'), true);
  assert.equal(r.count('v'), 0);
  assert.equal(r.count('other'), 0);
});
