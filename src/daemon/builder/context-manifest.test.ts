import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParameter } from '../../errdefs/index.js';
import { headerDefaults, type TarHeader } from '../../lib/tar/index.js';
import { parseManifestDigests, storedReference } from './context-manifest.js';

const HEX = 'ab'.repeat(32);
const ref = (h: Partial<TarHeader>, pax: Record<string, string> = { 'BERTH.digest': `sha256:${HEX}`, 'BERTH.size': '5' }) =>
  headerDefaults({ name: 'a/f', type: 'file', size: 0, ...h, pax });

test('a manifest request lists sha256 digests; anything else is a 400', () => {
  assert.deepEqual(parseManifestDigests({ Digests: [`sha256:${HEX}`] }), [HEX]);
  assert.deepEqual(parseManifestDigests({ Digests: [] }), []);
  for (const bad of [undefined, {}, { Digests: 'x' }, { Digests: ['sha256:12'] }, { Digests: [`sha512:${HEX}`] }, { Digests: [7] }]) {
    assert.throws(() => parseManifestDigests(bad), InvalidParameter, JSON.stringify(bad));
  }
});

test('an entry without the digest record is an ordinary file', () => {
  assert.equal(storedReference(headerDefaults({ name: 'a', type: 'file', size: 3 })), undefined);
});

test('a reference names its digest and size', () => {
  assert.deepEqual(storedReference(ref({})), { hex: HEX, size: 5 });
});

test('a reference naming ../x, an absolute path or a malformed digest or size is refused', () => {
  for (const name of ['../x', 'a/../../x', '/etc/passwd', 'a/..']) assert.throws(() => storedReference(ref({ name })), InvalidParameter, name);
  assert.throws(() => storedReference(ref({}, { 'BERTH.digest': 'sha256:zz', 'BERTH.size': '1' })), InvalidParameter);
  assert.throws(() => storedReference(ref({}, { 'BERTH.digest': `sha256:${HEX}`, 'BERTH.size': '-1' })), InvalidParameter);
  assert.throws(() => storedReference(ref({}, { 'BERTH.digest': `sha256:${HEX}` })), InvalidParameter);
  // only an empty regular file may refer: a symlink or a file with bytes may not
  assert.throws(() => storedReference(ref({ type: 'symlink', linkname: 'x' })), InvalidParameter);
  assert.throws(() => storedReference(ref({ size: 3 })), InvalidParameter);
});
