import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveUser } from './user.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nwww:x:33:33::/var/www:/bin/sh\n';
const group = 'root:x:0:\nwww:x:33:\nstaff:x:50:www\nnogroup:x:65534:\n';

test('resolves names, ids and groups like runc', () => {
  assert.deepEqual(resolveUser('', passwd, group), { uid: 0, gid: 0, additionalGids: [0], home: '/root' });
  assert.deepEqual(resolveUser('www', passwd, group), { uid: 33, gid: 33, additionalGids: [33, 50], home: '/var/www' });
  assert.deepEqual(resolveUser('1000:1000', passwd, group), { uid: 1000, gid: 1000, additionalGids: [1000], home: '/' });
  assert.deepEqual(resolveUser('nobody:staff', passwd, group), { uid: 65534, gid: 50, additionalGids: [50], home: '/nonexistent' });
  assert.deepEqual(resolveUser('0', undefined, undefined), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
});

test('unknown names fail with runc wording', () => {
  assert.throws(() => resolveUser('ghost', passwd, group), /unable to find user ghost: no matching entries in passwd file/);
  assert.throws(() => resolveUser('root:ghosts', passwd, group), /unable to find group ghosts/);
});
