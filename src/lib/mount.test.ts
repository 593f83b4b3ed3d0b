import assert from 'node:assert/strict';
import { test } from 'node:test';
import { directMount } from './mount.js';

test('overlay and plain tmpfs plans become mount(2) flags and data; bind mounts, other types, tmpfs options mount(8) knows better and data past a page stay with mount(8)', () => {
  assert.deepEqual(directMount({ type: 'overlay', source: 'overlay', options: ['ro', 'lowerdir=/a:/b', 'userxattr'] }), { flags: 1, data: 'lowerdir=/a:/b,userxattr' });
  assert.deepEqual(directMount({ type: 'overlay', source: 'overlay', options: ['lowerdir=/a', 'upperdir=/u', 'workdir=/w'] }), { flags: 0, data: 'lowerdir=/a,upperdir=/u,workdir=/w' });
  assert.equal(directMount({ type: 'none', source: '/x', options: ['bind'] }), undefined);
  assert.deepEqual(directMount({ type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=67108864'] }), { flags: 14, data: 'mode=1777,size=67108864' });
  assert.deepEqual(directMount({ type: 'tmpfs', source: 'tmpfs', options: [] }), { flags: 0, data: '' });
  // `exec` clears a flag and `nr_inodes` is data: the first is mount(8)'s to know
  assert.equal(directMount({ type: 'tmpfs', source: 'tmpfs', options: ['exec', 'size=1m'] }), undefined);
  assert.equal(directMount({ type: 'proc', source: 'proc', options: [] }), undefined);
  assert.equal(directMount({ type: 'overlay', source: 'overlay', options: [`lowerdir=${'/l'.repeat(2048)}`] }), undefined);
});
