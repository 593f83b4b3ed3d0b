import assert from 'node:assert/strict';
import { test } from 'node:test';
import { directMount } from './mount.js';

test('an overlay plan becomes mount(2) flags and data; bind mounts, other types and data past a page stay with mount(8)', () => {
  assert.deepEqual(directMount({ type: 'overlay', source: 'overlay', options: ['ro', 'lowerdir=/a:/b', 'userxattr'] }), { flags: 1, data: 'lowerdir=/a:/b,userxattr' });
  assert.deepEqual(directMount({ type: 'overlay', source: 'overlay', options: ['lowerdir=/a', 'upperdir=/u', 'workdir=/w'] }), { flags: 0, data: 'lowerdir=/a,upperdir=/u,workdir=/w' });
  assert.equal(directMount({ type: 'none', source: '/x', options: ['bind'] }), undefined);
  assert.equal(directMount({ type: 'tmpfs', source: 'tmpfs', options: [] }), undefined);
  assert.equal(directMount({ type: 'overlay', source: 'overlay', options: [`lowerdir=${'/l'.repeat(2048)}`] }), undefined);
});
