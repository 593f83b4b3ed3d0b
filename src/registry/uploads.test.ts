import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { sha256Digest } from '../oci/index.js';
import { MemoryDriver } from './storage/memory.js';
import { Uploads } from './uploads.js';

test('an upload in two chunks seals to the digest of all its bytes, then goes away', async () => {
  const driver = new MemoryDriver();
  const uploads = new Uploads(driver);
  const uuid = await uploads.start('app');
  assert.equal(await uploads.append('app', uuid, Readable.from([Buffer.from('hello ')])), 6);
  assert.equal(await uploads.append('app', uuid, Readable.from([Buffer.from('world')]), 6, 5), 11);
  const sealed = await uploads.seal('app', uuid);
  assert.equal(sealed.digest, sha256Digest('hello world'));
  assert.equal((await driver.getContent(sealed.path)).toString(), 'hello world');
  await uploads.remove('app', uuid);
  await assert.rejects(uploads.size('app', uuid), { code: 'BLOB_UPLOAD_UNKNOWN' });
});

test('a chunk that does not start where the upload stands is 416; an id never started is unknown', async () => {
  const uploads = new Uploads(new MemoryDriver());
  const uuid = await uploads.start('app');
  await assert.rejects(uploads.append('app', uuid, Readable.from([Buffer.from('x')]), 3), { code: 'RANGE_INVALID', status: 416 });
  await assert.rejects(uploads.size('app', '../../blobs'), { code: 'BLOB_UPLOAD_UNKNOWN' });
});
