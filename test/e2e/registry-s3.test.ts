/**
 * berth-registry's S3 driver against a real S3 server (Ceph RGW started
 * here on 127.0.0.1): the storage-driver conformance suite, then two
 * registry processes over one bucket serving as one registry — a push to
 * one pulled from the other, and an upload started on one finished on the
 * other.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { driverConformance } from '../../src/registry/storage/conformance.js';
import { S3Driver } from '../../src/registry/storage/s3.js';
import { cephUp, type Ceph } from '../support/ceph.js';
import { REPO } from '../support/daemon.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const BUCKET = 'berth-test';
let cephStarted: Promise<Ceph> | undefined;
function ceph(): Promise<Ceph> {
  cephStarted ??= (async () => {
    const c = await cephUp();
    const s3 = new S3Client({ region: 'us-east-1', endpoint: c.endpoint, forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    s3.destroy();
    return c;
  })();
  return cephStarted;
}

after(async () => {
  if (cephStarted) await (await cephStarted).down();
});

driverConformance('s3 (Ceph RGW)', async () => {
  const c = await ceph();
  const driver = new S3Driver({ bucket: BUCKET, region: 'us-east-1', endpoint: c.endpoint, forcePathStyle: true, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, rootDirectory: `conf-${randomBytes(4).toString('hex')}` });
  return { driver, cleanup: async () => {} };
});

function http(port: number, method: string, path: string, body?: Buffer, headers: Record<string, string | number> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(body ? { 'Content-Length': body.length } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('two berth-registry processes over one bucket', () => {
  const procs: ChildProcess[] = [];
  after(async () => {
    for (const p of procs) {
      p.kill();
      if (p.exitCode === null) await new Promise((r) => p.once('exit', r));
    }
  });

  test('an upload started on one is finished on the other; what one stores the other serves', async () => {
    const c = await ceph();
    const root = `replicas-${randomBytes(4).toString('hex')}`;
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ports.push(port);
      procs.push(spawn(join(REPO, 'bin/berth-registry'), ['serve', '--addr', `127.0.0.1:${port}`, '--quiet', '--storage', 's3', '--s3-bucket', BUCKET,
        '--s3-endpoint', c.endpoint, '--s3-region', 'us-east-1', '--s3-path-style', '--s3-root', root], {
        stdio: 'ignore', env: { ...process.env, AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey },
      }));
      await waitFor(async () => (await http(port, 'GET', '/v2/').catch(() => ({ status: 0 }))).status === 200, 10_000, 'berth-registry on s3');
    }
    const [a, b] = ports as [number, number];
    const data = randomBytes(12 << 20);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const start = await http(a, 'POST', '/v2/shared/app/blobs/uploads/');
    assert.equal(start.status, 202);
    const loc = String(start.headers.location);
    assert.equal((await http(a, 'PATCH', loc, data.subarray(0, 6 << 20), { 'Content-Range': `0-${(6 << 20) - 1}` })).status, 202);
    const status = await http(b, 'GET', loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.range, `0-${(6 << 20) - 1}`);
    assert.equal((await http(b, 'PATCH', loc, data.subarray(6 << 20), { 'Content-Range': `${6 << 20}-${data.length - 1}` })).status, 202);
    const done = await http(a, 'PUT', `${loc}?digest=${digest}`, Buffer.alloc(0));
    assert.equal(done.status, 201, done.body.toString());
    const got = await http(b, 'GET', `/v2/shared/app/blobs/${digest}`);
    assert.equal(got.status, 200);
    assert.equal(`sha256:${createHash('sha256').update(got.body).digest('hex')}`, digest);
    // a manifest pushed to one is pulled from the other
    const cfg = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const cfgDigest = `sha256:${createHash('sha256').update(cfg).digest('hex')}`;
    assert.equal((await http(b, 'POST', `/v2/shared/app/blobs/uploads/?digest=${cfgDigest}`, cfg)).status, 201);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgDigest, size: cfg.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: data.length }] }));
    assert.equal((await http(a, 'PUT', '/v2/shared/app/manifests/v1', manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' })).status, 201);
    const pulled = await http(b, 'GET', '/v2/shared/app/manifests/v1', undefined, { Accept: 'application/vnd.oci.image.manifest.v1+json' });
    assert.deepEqual(pulled.body, manifest);
    assert.deepEqual(JSON.parse((await http(b, 'GET', '/v2/shared/app/tags/list')).body.toString()), { name: 'shared/app', tags: ['v1'] });
  });
});

// last in this file: it takes the shared Ceph's gateway down
describe('an S3 outage', () => {
  let proc: ChildProcess | undefined;
  after(async () => {
    proc?.kill();
    if (proc && proc.exitCode === null) await new Promise((r) => proc!.once('exit', r));
  });

  test('answers 5xx, never 404 MANIFEST_UNKNOWN or BLOB_UNKNOWN', async () => {
    const c = await ceph();
    const port = await freePort();
    proc = spawn(join(REPO, 'bin/berth-registry'), ['serve', '--addr', `127.0.0.1:${port}`, '--quiet', '--storage', 's3', '--s3-bucket', BUCKET,
      '--s3-endpoint', c.endpoint, '--s3-region', 'us-east-1', '--s3-path-style', '--s3-root', `outage-${randomBytes(4).toString('hex')}`], {
      stdio: 'ignore', env: { ...process.env, AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey },
    });
    await waitFor(async () => (await http(port, 'GET', '/v2/').catch(() => ({ status: 0 }))).status === 200, 10_000, 'berth-registry on s3');
    const cfg = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const cfgDigest = `sha256:${createHash('sha256').update(cfg).digest('hex')}`;
    assert.equal((await http(port, 'POST', `/v2/up/app/blobs/uploads/?digest=${cfgDigest}`, cfg)).status, 201);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgDigest, size: cfg.length }, layers: [] }));
    assert.equal((await http(port, 'PUT', '/v2/up/app/manifests/v1', manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' })).status, 201);
    assert.equal((await http(port, 'GET', '/v2/up/app/manifests/v1')).status, 200);
    await c.stopGateway();
    for (const path of ['/v2/up/app/manifests/v1', '/v2/up/app/manifests/nothing', `/v2/up/app/blobs/${cfgDigest}`, '/v2/up/app/tags/list']) {
      const r = await http(port, 'GET', path);
      assert.ok(r.status >= 500, `${path}: ${r.status} ${r.body.toString()}`);
    }
  });
});
