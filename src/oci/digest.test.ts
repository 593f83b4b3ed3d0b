import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester, isSha256Digest, parseDigest, sha256Digest } from './digest.js';
import { chainIds } from './image.js';

test('digest grammar: sha256 must be 64 lowercase hex', () => {
  assert.ok(isSha256Digest(sha256Digest('x')));
  assert.throws(() => parseDigest(`sha256:${'A'.repeat(64)}`));
  assert.throws(() => parseDigest('sha256:abc'));
  assert.throws(() => parseDigest('../../etc/passwd'));
  assert.deepEqual(parseDigest(`sha256:${'a'.repeat(64)}`), { algorithm: 'sha256', encoded: 'a'.repeat(64) });
});

test('Digester hashes and counts while passing bytes through', async () => {
  const d = new Digester();
  let seen = 0;
  await pipeline(Readable.from([Buffer.from('hello '), Buffer.from('world')]), d, new Writable({
    write(c, _e, cb) { seen += c.length; cb(); },
  }));
  assert.equal(d.digest(), sha256Digest('hello world'));
  assert.equal(d.size, 11);
  assert.equal(seen, 11);
});

test('chain ids follow the OCI formula', () => {
  const a = sha256Digest('a');
  const b = sha256Digest('b');
  assert.deepEqual(chainIds([a, b]), [a, sha256Digest(`${a} ${b}`)]);
});
