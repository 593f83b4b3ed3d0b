import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer, InvalidRegistrySettings, listen, storageDriver } from './compose.js';
import type { ServeSettings } from './settings.js';

const root = mkdtempSync(join(tmpdir(), 'berth-registry-compose-'));
after(() => rmSync(root, { recursive: true, force: true }));

const settings: ServeSettings = { storage: 'filesystem', root, s3Region: 'us-east-1', addr: '127.0.0.1:0', maxManifestBytes: 4 << 20, tokenService: 'berth-registry', tokenIssuer: 'berth-registry' };

test('the storage settings pick the driver, or say what is missing', () => {
  assert.equal(storageDriver(settings).name, 'filesystem');
  assert.equal(storageDriver({ storage: 's3', s3Bucket: 'b', s3Region: 'us-east-1', s3Endpoint: 'http://127.0.0.1:1', s3PathStyle: true }).name, 's3');
  assert.throws(() => storageDriver({ storage: 's3', s3Region: 'us-east-1' }), /--storage s3 needs --s3-bucket/);
  assert.throws(() => storageDriver({ storage: 'filesystem', s3Region: 'us-east-1' }), InvalidRegistrySettings);
  assert.throws(() => storageDriver({ storage: 'gcs', s3Region: 'us-east-1' }), /unknown storage driver gcs/);
});

test('a certificate without its key stops start-up', async () => {
  await assert.rejects(buildServer({ ...settings, tlsCert: '/nonexistent.pem' }, () => {}), /--tls-cert and --tls-key go together/);
});

test('an anonymous registry on the filesystem answers /v2/', async () => {
  const server = await buildServer(settings, () => {});
  await listen(server, settings.addr);
  try {
    const { port } = server.address() as AddressInfo;
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    assert.equal(status, 200);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
