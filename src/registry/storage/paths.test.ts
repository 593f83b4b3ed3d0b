import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDriver } from './memory.js';
import {
  blobDataPath, blobDir, digestsIn, layerLinkPath, referrerPath, repositoryNames, revisionLinkPath, tagLinkPath, uploadDataPath, uploadSealedPath,
  uploadStartedAtPath,
} from './paths.js';

const ab = `sha256:${'ab'.repeat(32)}`;
const cd = `sha256:${'cd'.repeat(32)}`;

test('the layout is distribution\'s, as the header draws it', () => {
  assert.equal(blobDataPath(ab), `blobs/sha256/${'ab'.repeat(32)}/data`);
  assert.equal(blobDir(ab), `blobs/sha256/${'ab'.repeat(32)}`);
  assert.equal(layerLinkPath('library/app', cd), `repositories/library/app/_layers/sha256/${'cd'.repeat(32)}/link`);
  assert.equal(revisionLinkPath('library/app', ab), `repositories/library/app/_manifests/revisions/sha256/${'ab'.repeat(32)}/link`);
  assert.equal(tagLinkPath('library/app', 'v1'), 'repositories/library/app/_manifests/tags/v1/current/link');
  assert.equal(referrerPath('app', ab, cd), `repositories/app/_referrers/${'ab'.repeat(32)}/${'cd'.repeat(32)}`);
  const uuid = '123e4567-e89b-12d3-a456-426614174000';
  assert.equal(uploadDataPath('app', uuid), `repositories/app/_uploads/${uuid}/data`);
  assert.equal(uploadStartedAtPath('app', uuid), `repositories/app/_uploads/${uuid}/startedat`);
  assert.equal(uploadSealedPath('app', uuid, '00ff'), `repositories/app/_uploads/${uuid}/sealed-00ff`);
});

test('a digest that is not sha256:<64 hex> never becomes a path', () => {
  for (const bad of ['sha256:abc', `sha256:${'AB'.repeat(32)}`, `md5:${'a'.repeat(32)}`, 'sha256:../../etc/passwd', `sha256:${'a'.repeat(64)}/x`]) {
    assert.throws(() => blobDataPath(bad), { code: 'digest.invalid' }, bad);
    assert.throws(() => layerLinkPath('app', bad), { code: 'digest.invalid' }, bad);
  }
});

test('repositoryNames walks nested names and skips the layout\'s own entries', async () => {
  const driver = new MemoryDriver();
  await driver.putContent(tagLinkPath('library/app', 'v1'), ab);
  await driver.putContent(layerLinkPath('solo', cd), cd);
  await driver.putContent(uploadDataPath('library/app', '123e4567-e89b-12d3-a456-426614174000'), '');
  assert.deepEqual((await repositoryNames(driver)).sort(), ['library', 'library/app', 'solo']);
});

test('digestsIn names only the entries that are sha256 hex', () => {
  assert.deepEqual(digestsIn(['ab'.repeat(32), 'junk', 'AB'.repeat(32), 'cd'.repeat(32)]), [ab, cd]);
});
