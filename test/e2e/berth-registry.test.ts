/**
 * berth-registry with real clients: the docker CLI through berthd (push,
 * pull, cross-repository mount), skopeo (copy both ways, inspect,
 * list-tags, delete) and podman; the spec's error codes for bad input
 * over raw HTTP; chunked and resumable uploads; kill -9 mid-upload; gc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { makeCerts } from '../support/certs.js';
import { REPO, TestDaemon } from '../support/daemon.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const BIN = join(REPO, 'bin/berth-registry');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function http(port: number, method: string, path: string, body?: Buffer | string, headers: Record<string, string | number> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const code = (r: Reply) => (JSON.parse(r.body.toString()) as { errors: { code: string }[] }).errors[0]!.code;

describe('berth-registry', () => {
  let d: TestDaemon;
  let root: string;
  let port: number;
  let proc: ChildProcess | undefined;
  const start = async (extra: string[] = []) => {
    proc = spawn(BIN, ['serve', '--addr', `127.0.0.1:${port}`, '--root', root, '--quiet', ...extra], { stdio: 'ignore' });
    await waitFor(async () => (await http(port, 'GET', '/v2/').catch(() => ({ status: 0 }))).status === 200, 10_000, 'berth-registry');
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise((r) => proc!.once('exit', r));
    proc.kill(signal);
    await gone;
  };

  before(async () => {
    root = mkdtempSync('/tmp/berth-registry-root-');
    port = await freePort();
    await start(['--delete-enabled']);
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await stop();
    await d?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const ok = (args: string[]) => d.dockerOk(args, { timeoutMs: 120_000 });
  const skopeo = (args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
    const p = spawn('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('close', (c) => resolve({ code: c ?? 1, out }));
  });

  test('docker push and pull through berthd, skopeo copy both ways, inspect, list-tags and delete', async () => {
    const host = `127.0.0.1:${port}`;
    await ok(['tag', 'busybox', `${host}/base/bb:v1`]);
    assert.match(await ok(['push', `${host}/base/bb:v1`]), /v1: digest: sha256/);
    await ok(['tag', 'busybox', `${host}/other/bb:v2`]);
    assert.match(await ok(['push', `${host}/other/bb:v2`]), /Mounted from base\/bb/);
    const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
    await ok(['rmi', `${host}/base/bb:v1`, `${host}/other/bb:v2`]);
    assert.match(await ok(['pull', `${host}/other/bb:v2`]), /Digest: sha256/);
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', `${host}/other/bb:v2`])).trim(), id);
    const dir = mkdtempSync('/tmp/berth-skopeo-');
    try {
      const out = await skopeo(['copy', '--src-tls-verify=false', `docker://${host}/base/bb:v1`, `oci:${dir}:bb`]);
      assert.equal(out.code, 0, out.out);
      const back = await skopeo(['copy', '--dest-tls-verify=false', `oci:${dir}:bb`, `docker://${host}/copied/bb:v3`]);
      assert.equal(back.code, 0, back.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const inspect = await skopeo(['inspect', '--tls-verify=false', `docker://${host}/copied/bb:v3`]);
    assert.equal(inspect.code, 0, inspect.out);
    assert.deepEqual((JSON.parse(inspect.out) as { RepoTags: string[] }).RepoTags, ['v3']);
    const tags = await skopeo(['list-tags', '--tls-verify=false', `docker://${host}/base/bb`]);
    assert.deepEqual((JSON.parse(tags.out) as { Tags: string[] }).Tags, ['v1']);
    // pulled by docker from what skopeo wrote
    assert.equal((await ok(['run', '--rm', `${host}/copied/bb:v3`, 'echo', 'from skopeo'])).trim(), 'from skopeo');
    const del = await skopeo(['delete', '--tls-verify=false', `docker://${host}/copied/bb:v3`]);
    assert.equal(del.code, 0, del.out);
    assert.equal((await http(port, 'GET', '/v2/copied/bb/manifests/v3')).status, 404);
    const catalog = JSON.parse((await http(port, 'GET', '/v2/_catalog')).body.toString()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['base/bb', 'copied/bb', 'other/bb']);
    assert.equal((await http(port, 'GET', '/metrics')).body.toString().match(/registry_http_requests_total\{method="PUT",code="201"\} (\d+)/)?.[1] !== undefined, true);
    const page = await http(port, 'GET', '/v2/_catalog?n=2');
    assert.deepEqual((JSON.parse(page.body.toString()) as { repositories: string[] }).repositories, ['base/bb', 'copied/bb']);
    assert.equal(page.headers.link, '</v2/_catalog?n=2&last=copied%2Fbb>; rel="next"');
  });

  test('podman pulls from and pushes to it', async () => {
    const store = mkdtempSync('/tmp/berth-podman-');
    const podman = (args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
      const p = spawn('podman', ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--storage-driver', 'vfs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (out += c.toString()));
      p.on('close', (c) => resolve({ code: c ?? 1, out }));
    });
    try {
      const pull = await podman(['pull', '--tls-verify=false', `127.0.0.1:${port}/base/bb:v1`]);
      assert.equal(pull.code, 0, pull.out);
      const push = await podman(['push', '--tls-verify=false', `127.0.0.1:${port}/base/bb:v1`, `127.0.0.1:${port}/podman/bb:v1`]);
      assert.equal(push.code, 0, push.out);
      const tags = JSON.parse((await http(port, 'GET', '/v2/podman/bb/tags/list')).body.toString()) as { tags: string[] };
      assert.deepEqual(tags.tags, ['v1']);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });

  test('bad input gets the spec codes and stores nothing; path tricks are refused', async () => {
    const blobs = () => readdirSync(join(root, 'blobs/sha256')).sort();
    const before = blobs();
    const data = randomBytes(1000);
    let r = await http(port, 'POST', `/v2/bad/blobs/uploads/?digest=${sha('something else')}`, data);
    assert.equal(r.status, 400);
    assert.equal(code(r), 'DIGEST_INVALID');
    assert.deepEqual(blobs(), before);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('nope'), size: 4 }, layers: [] });
    r = await http(port, 'PUT', '/v2/bad/manifests/x', manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
    assert.equal(r.status, 400);
    assert.equal(code(r), 'MANIFEST_BLOB_UNKNOWN');
    r = await http(port, 'PUT', '/v2/bad/manifests/x', '{"schemaVersion": 2', { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
    assert.equal(code(r), 'MANIFEST_INVALID');
    r = await http(port, 'PUT', '/v2/bad/manifests/big', Buffer.alloc((4 << 20) + 1, 0x20), { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
    assert.equal(r.status, 413);
    for (const name of ['UPPER/case', 'a/../b', 'x'.repeat(256), '-lead', 'a//b']) {
      r = await http(port, 'GET', `/v2/${name}/tags/list`);
      assert.equal(r.status, 400, name);
      assert.equal(code(r), 'NAME_INVALID', name);
    }
    for (const digest of ['sha256:..%2F..%2F..%2Fetc%2Fpasswd', 'sha256:abc', 'md5:00']) {
      r = await http(port, 'GET', `/v2/base/bb/blobs/${digest}`);
      assert.equal(r.status, 400, digest);
      assert.equal(code(r), 'DIGEST_INVALID', digest);
    }
    // reading a manifest by a reference that cannot exist: unknown, as the OCI conformance suite expects
    for (const ref of ['.INVALID_MANIFEST_NAME', 'sha256:abc', '-x']) {
      r = await http(port, 'GET', `/v2/base/bb/manifests/${ref}`);
      assert.equal(r.status, 404, ref);
      assert.equal(code(r), 'MANIFEST_UNKNOWN', ref);
    }
    r = await http(port, 'GET', '/v2/base/bb/blobs/uploads/..%2F..%2Fx');
    assert.equal(code(r), 'BLOB_UPLOAD_UNKNOWN');
    r = await http(port, 'GET', `/v2/base/bb/blobs/${sha('absent')}`);
    assert.equal(code(r), 'BLOB_UNKNOWN');
    r = await http(port, 'GET', '/v2/base/bb/manifests/absent');
    assert.equal(code(r), 'MANIFEST_UNKNOWN');
    assert.deepEqual(blobs(), before);
  });

  test('chunked uploads: in order, status, resume, out of order is 416; ranged blob reads', async () => {
    const data = randomBytes(300_000);
    let r = await http(port, 'POST', '/v2/chunks/blobs/uploads/');
    assert.equal(r.status, 202);
    const loc = String(r.headers.location);
    r = await http(port, 'PATCH', loc, data.subarray(0, 100_000), { 'Content-Range': '0-99999', 'Content-Type': 'application/octet-stream' });
    assert.equal(r.status, 202);
    assert.equal(r.headers.range, '0-99999');
    r = await http(port, 'PATCH', loc, data.subarray(150_000, 200_000), { 'Content-Range': '150000-199999' });
    assert.equal(r.status, 416);
    r = await http(port, 'GET', loc);
    assert.equal(r.status, 204);
    assert.equal(r.headers.range, '0-99999');
    r = await http(port, 'PATCH', loc, data.subarray(100_000, 200_000), { 'Content-Range': '100000-199999' });
    assert.equal(r.status, 202);
    r = await http(port, 'PUT', `${loc}?digest=${sha(data)}`, data.subarray(200_000));
    assert.equal(r.status, 201);
    assert.equal(r.headers['docker-content-digest'], sha(data));
    r = await http(port, 'GET', `/v2/chunks/blobs/${sha(data)}`, undefined, { Range: 'bytes=299990-' });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, data.subarray(299_990));
    assert.equal(r.headers['content-range'], `bytes 299990-299999/300000`);
    // anonymous mount (no `from`): the registry has the blob, so it is linked
    r = await http(port, 'POST', `/v2/elsewhere/blobs/uploads/?mount=${sha(data)}`);
    assert.equal(r.status, 201);
    assert.equal((await http(port, 'HEAD', `/v2/elsewhere/blobs/${sha(data)}`)).status, 200);
    r = await http(port, 'POST', `/v2/elsewhere/blobs/uploads/?mount=${sha('never stored')}`);
    assert.equal(r.status, 202); // an ordinary upload starts instead
    r = await http(port, 'DELETE', `/v2/chunks/blobs/uploads/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`);
    assert.equal(code(r), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('referrers: a manifest with a subject is listed, filtered by artifactType', async () => {
    const subject = await http(port, 'GET', '/v2/base/bb/manifests/v1', undefined, { Accept: 'application/vnd.docker.distribution.manifest.v2+json' });
    const cfg = Buffer.from('{}');
    assert.equal((await http(port, 'POST', `/v2/base/bb/blobs/uploads/?digest=${sha(cfg)}`, cfg)).status, 201);
    const artifact = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.sbom',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha(cfg), size: 2 }, layers: [],
      subject: { mediaType: String(subject.headers['content-type']), digest: String(subject.headers['docker-content-digest']), size: subject.body.length },
    });
    const put = await http(port, 'PUT', `/v2/base/bb/manifests/${sha(artifact)}`, artifact, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
    assert.equal(put.status, 201);
    assert.equal(put.headers['oci-subject'], subject.headers['docker-content-digest']);
    const list = JSON.parse((await http(port, 'GET', `/v2/base/bb/referrers/${String(subject.headers['docker-content-digest'])}`)).body.toString()) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(list.manifests.map((m) => [m.digest, m.artifactType]), [[sha(artifact), 'application/vnd.example.sbom']]);
    const none = JSON.parse((await http(port, 'GET', `/v2/base/bb/referrers/${String(subject.headers['docker-content-digest'])}?artifactType=other`)).body.toString()) as { manifests: unknown[] };
    assert.deepEqual(none.manifests, []);
  });

  test('kill -9 mid-upload: every stored blob matches its digest and the upload resumes', async () => {
    const data = randomBytes(4 << 20);
    const r = await http(port, 'POST', '/v2/crash/blobs/uploads/');
    const loc = String(r.headers.location);
    assert.equal((await http(port, 'PATCH', loc, data.subarray(0, 1 << 20), { 'Content-Range': `0-${(1 << 20) - 1}` })).status, 202);
    // a PATCH the registry dies in the middle of
    const cut = new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'PATCH', path: loc, headers: { 'Content-Length': 3 << 20 } }, () => resolve());
      req.on('error', () => resolve());
      req.write(data.subarray(1 << 20, 2 << 20));
      setTimeout(() => void stop('SIGKILL'), 200);
    });
    await cut;
    await start(['--delete-enabled']);
    for (const hex of readdirSync(join(root, 'blobs/sha256'))) {
      assert.equal(sha(readFileSync(join(root, 'blobs/sha256', hex, 'data'))), `sha256:${hex}`);
    }
    const status = await http(port, 'GET', loc);
    assert.equal(status.status, 204);
    const have = Number(String(status.headers.range).split('-')[1]) + 1;
    assert.ok(have >= 1 << 20);
    const put = await http(port, 'PUT', `${loc}?digest=${sha(data)}`, data.subarray(have), { 'Content-Range': `${have}-${data.length - 1}` });
    assert.equal(put.status, 201);
    assert.equal(sha((await http(port, 'GET', `/v2/crash/blobs/${sha(data)}`)).body), sha(data));
  });

  test('htpasswd Basic auth over TLS: docker login, push and pull through berthd; wrong credentials are refused', async () => {
    const dir = mkdtempSync('/tmp/berth-registry-auth-');
    const certs = makeCerts(join(dir, 'certs'));
    execFileSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), 'alice', 'wonderland']);
    const authPort = await freePort();
    const p = spawn(BIN, ['serve', '--addr', `127.0.0.1:${authPort}`, '--root', join(dir, 'root'), '--quiet', '--htpasswd', join(dir, 'htpasswd'),
      '--tls-cert', certs.serverCert, '--tls-key', certs.serverKey], { stdio: 'ignore' });
    const env = { DOCKER_CONFIG: join(dir, 'docker-config') };
    const https = (path: string, auth?: string) => new Promise<number>((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port: authPort, path, ca: certs.pem('ca'), headers: auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.end();
    });
    try {
      await waitFor(async () => (await https('/v2/')) === 401, 10_000, 'the TLS registry');
      assert.equal(await https('/v2/', 'alice:wonderland'), 200);
      assert.equal(await https('/v2/', 'alice:rabbit'), 401);
      const host = `127.0.0.1:${authPort}`;
      const wrong = await d.docker(['login', '-u', 'alice', '-p', 'rabbit', host], { env });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /unauthorized/i);
      assert.equal((await d.docker(['login', '-u', 'alice', '-p', 'wonderland', host], { env })).code, 0);
      await ok(['tag', 'busybox', `${host}/secure/bb:v1`]);
      const push = await d.docker(['push', `${host}/secure/bb:v1`], { env });
      assert.equal(push.code, 0, push.stderr);
      await ok(['rmi', `${host}/secure/bb:v1`]);
      assert.equal((await d.docker(['pull', `${host}/secure/bb:v1`], { env })).code, 0);
      const sk = await skopeo(['list-tags', '--tls-verify=false', '--creds', 'alice:wonderland', `docker://${host}/secure/bb`]);
      assert.deepEqual((JSON.parse(sk.out) as { Tags: string[] }).Tags, ['v1']);
      const anon = await skopeo(['list-tags', '--tls-verify=false', '--no-creds', `docker://${host}/secure/bb`]);
      assert.notEqual(anon.code, 0);
    } finally {
      p.kill();
      await new Promise((r) => p.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('token auth with the built-in endpoint: docker login, push, pull; scopes are enforced', async () => {
    const dir = mkdtempSync('/tmp/berth-registry-token-');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), 'bob', 'builder']);
    const tokPort = await freePort();
    const p = spawn(BIN, ['serve', '--addr', `127.0.0.1:${tokPort}`, '--root', join(dir, 'root'), '--quiet', '--htpasswd', join(dir, 'htpasswd'), '--token-key', join(dir, 'key.pem')], { stdio: 'ignore' });
    const env = { DOCKER_CONFIG: join(dir, 'docker-config') };
    const host = `127.0.0.1:${tokPort}`;
    try {
      await waitFor(async () => (await http(tokPort, 'GET', '/v2/').catch(() => ({ status: 0 }))).status === 401, 10_000, 'the token registry');
      const challenge = String((await http(tokPort, 'GET', '/v2/bob/bb/manifests/v1')).headers['www-authenticate']);
      assert.equal(challenge, `Bearer realm="http://${host}/auth/token",service="berth-registry",scope="repository:bob/bb:pull"`);
      assert.equal((await d.docker(['login', '-u', 'bob', '-p', 'nope', host], { env })).code, 1);
      assert.equal((await d.docker(['login', '-u', 'bob', '-p', 'builder', host], { env })).code, 0);
      await ok(['tag', 'busybox', `${host}/bob/bb:v1`]);
      const push = await d.docker(['push', `${host}/bob/bb:v1`], { env });
      assert.equal(push.code, 0, push.stderr);
      await ok(['rmi', `${host}/bob/bb:v1`]);
      assert.equal((await d.docker(['pull', `${host}/bob/bb:v1`], { env })).code, 0);
      // anonymous: no token grants anything
      const anon = await d.docker(['pull', `${host}/bob/bb:v1`], { env: { DOCKER_CONFIG: join(dir, 'empty-config') } });
      assert.equal(anon.code, 1);
      assert.match(anon.stderr, /unauthorized|denied/i);
      // a pull-only token cannot push
      const basic = Buffer.from('bob:builder').toString('base64');
      const tok = JSON.parse((await http(tokPort, 'GET', '/auth/token?service=berth-registry&scope=repository:bob/bb:pull', undefined, { Authorization: `Basic ${basic}` })).body.toString()) as { token: string };
      assert.equal((await http(tokPort, 'GET', '/v2/bob/bb/tags/list', undefined, { Authorization: `Bearer ${tok.token}` })).status, 200);
      const denied = await http(tokPort, 'POST', '/v2/bob/bb/blobs/uploads/', undefined, { Authorization: `Bearer ${tok.token}` });
      assert.equal(denied.status, 401);
      assert.match(String(denied.headers['www-authenticate']), /error="insufficient_scope"/);
      const forged = `${tok.token.split('.').slice(0, 2).join('.')}.${Buffer.from('x'.repeat(64)).toString('base64url')}`;
      assert.equal((await http(tokPort, 'GET', '/v2/bob/bb/tags/list', undefined, { Authorization: `Bearer ${forged}` })).status, 401);
      const sk = await skopeo(['list-tags', '--tls-verify=false', '--creds', 'bob:builder', `docker://${host}/bob/bb`]);
      assert.deepEqual((JSON.parse(sk.out) as { Tags: string[] }).Tags, ['v1']);
    } finally {
      p.kill();
      await new Promise((r) => p.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a distribution config.yml works as is (--config), flags override it", async () => {
    const dir = mkdtempSync('/tmp/berth-registry-config-');
    const cfgPort = await freePort();
    writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:1\n`);
    const p = spawn(BIN, ['serve', '--config', join(dir, 'config.yml'), '--addr', `127.0.0.1:${cfgPort}`], { stdio: 'ignore' });
    try {
      await waitFor(async () => (await http(cfgPort, 'GET', '/v2/').catch(() => ({ status: 0 }))).status === 200, 10_000, 'berth-registry --config');
      const blob = Buffer.from('config-test');
      assert.equal((await http(cfgPort, 'POST', `/v2/cfg/blobs/uploads/?digest=${sha(blob)}`, blob)).status, 201);
      assert.ok(readdirSync(join(dir, 'data/blobs/sha256')).includes(sha(blob).slice(7)));
      assert.equal((await http(cfgPort, 'DELETE', `/v2/cfg/blobs/${sha(blob)}`)).status, 202); // delete enabled by the file
    } finally {
      p.kill();
      await new Promise((r) => p.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('deletes are off unless enabled; gc removes unreferenced blobs only', async () => {
    const orphan = randomBytes(5000);
    assert.equal((await http(port, 'POST', `/v2/gc/blobs/uploads/?digest=${sha(orphan)}`, orphan)).status, 201);
    await stop();
    const dry = await new Promise<string>((resolve) => {
      const p = spawn(BIN, ['gc', '--root', root, '--dry-run', '--grace', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.on('close', () => resolve(out));
    });
    assert.match(dry, new RegExp(`would delete blob ${sha(orphan)}`));
    const real = spawn(BIN, ['gc', '--root', root, '--grace', '0'], { stdio: 'ignore' });
    await new Promise((r) => real.on('close', r));
    assert.ok(!readdirSync(join(root, 'blobs/sha256')).includes(sha(orphan).slice(7)));
    await start();
    // busybox is still pullable: its blobs were referenced
    await ok(['rmi', '-f', `127.0.0.1:${port}/other/bb:v2`]);
    await ok(['pull', `127.0.0.1:${port}/other/bb:v2`]);
    const del = await http(port, 'DELETE', '/v2/other/bb/manifests/v2');
    assert.equal(del.status, 405);
    assert.equal(code(del), 'UNSUPPORTED');
    await stop();
    await start(['--read-only', '--delete-enabled']);
    const ro = await http(port, 'POST', '/v2/x/blobs/uploads/');
    assert.equal(code(ro), 'UNSUPPORTED');
  });
});
