/**
 * Attacks from untrusted input against a real berthd, each one a way an
 * image, a build context or a volume's options once reached the host:
 * layer ids used as paths (load and pull), ADD through a context symlink,
 * FIFOs and devices as /etc/passwd, credentials in error messages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { headerDefaults, TarWriter } from '../../src/lib/tar/index.js';
import { packBinary, sha256, tarOf } from '../support/archives.js';
import { TestDaemon } from '../support/daemon.js';
import { rawExchange } from '../support/net.js';
import { startRegistry, type Registry } from '../support/registry.js';

const ARCH = process.arch === 'x64' ? 'amd64' : process.arch;

function raw(socket: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { ...(body ? { 'Content-Length': String(body.length) } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      // the daemon going away mid-answer must fail the test, not hang it
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function configOf(diffIds: string[]): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: ARCH, os: 'linux', created: '2026-01-02T03:04:05Z', config: { Cmd: ['ls', '/'] },
    rootfs: { type: 'layers', diff_ids: diffIds }, history: diffIds.map(() => ({ created_by: 'crafted' })),
  }));
}

/**
 * The crafted pair: image A's layer holds `fake/layer.json` and a symlink
 * `fake/diff -> /etc`; image B's config names the diff id
 * `sha256:<A's layer>/diff/fake`, which joined into the layer store's root
 * points inside A's layer, so B's lower dir would be the host's /etc.
 */
async function craftedPair() {
  const fakeInfo = JSON.stringify({ chainId: `sha256:${'0'.repeat(64)}`, diffId: `sha256:${'0'.repeat(64)}`, size: 0 });
  const layerA = await tarOf([{ name: 'fake/' }, { name: 'fake/layer.json', body: fakeInfo }, { name: 'fake/diff', type: 'symlink', linkname: '/etc' }]);
  const diffA = sha256(layerA);
  const layerB = await tarOf([{ name: 'b.txt', body: 'b' }]);
  const configA = configOf([diffA]);
  const configB = configOf([`${diffA}/diff/fake`]);
  return { layerA, layerB, configA, configB, diffA };
}

describe('hostile input', () => {
  let d: TestDaemon;
  let tmp: string;
  const layerDirs = () => readdirSync(join(d.dataRoot, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)).sort();
  const imageIds = async () => (await d.docker(['images', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean).sort();

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    tmp = mkdtempSync('/tmp/berth-hostile-');
  });
  after(async () => {
    await d?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('attack: a loaded image whose diff id is a path into another layer is refused, and nothing is stored', async () => {
    const p = await craftedPair();
    const blob = (b: Buffer) => `blobs/sha256/${sha256(b).slice(7)}`;
    const files = new Map<string, Buffer>([
      [blob(p.layerA), p.layerA], [blob(p.layerB), p.layerB], [blob(p.configA), p.configA], [blob(p.configB), p.configB],
      ['manifest.json', Buffer.from(JSON.stringify([
        { Config: blob(p.configA), RepoTags: ['evil:a'], Layers: [blob(p.layerA)] },
        { Config: blob(p.configB), RepoTags: ['evil:b'], Layers: [blob(p.layerB)] },
      ]))],
    ]);
    const layersBefore = layerDirs();
    const imagesBefore = await imageIds();
    const r = await raw(d.socket, 'POST', '/v1.47/images/load?quiet=1', await packBinary(files), { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /invalid digest/);
    assert.deepEqual(layerDirs(), layersBefore, 'no layer left behind');
    assert.deepEqual(await imageIds(), imagesBefore, 'no image left behind');
  });

  test('attack: the same pair pulled from a registry is refused, and nothing is stored', async () => {
    const p = await craftedPair();
    let reg: Registry | undefined;
    try {
      reg = await startRegistry();
      const put = async (repo: string, b: Buffer) => {
        const start = await fetch(`http://${reg!.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
        assert.equal(start.status, 202, await start.text());
        const url = new URL(start.headers.get('location')!, `http://${reg!.host}`);
        url.searchParams.set('digest', sha256(b));
        const r = await fetch(url, { method: 'PUT', body: b });
        assert.equal(r.status, 201, await r.text());
      };
      const manifest = async (repo: string, config: Buffer, layer: Buffer) => {
        await put(repo, config);
        await put(repo, layer);
        const m = JSON.stringify({
          schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gzipSync(layer)), size: gzipSync(layer).length }],
        });
        await put(repo, gzipSync(layer));
        const r = await fetch(`http://${reg!.host}/v2/${repo}/manifests/latest`, { method: 'PUT', body: m, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
        assert.equal(r.status, 201, await r.text());
      };
      await manifest('evil/a', p.configA, p.layerA);
      await manifest('evil/b', p.configB, p.layerB);
      const a = await d.docker(['pull', `${reg.host}/evil/a`]);
      assert.equal(a.code, 0, a.stderr);
      const layersBefore = layerDirs();
      const imagesBefore = await imageIds();
      const b = await d.docker(['pull', `${reg.host}/evil/b`]);
      assert.notEqual(b.code, 0, 'the pull fails');
      assert.match(b.stderr, /invalid digest/);
      assert.deepEqual(layerDirs(), layersBefore, 'no layer left behind');
      assert.deepEqual(await imageIds(), imagesBefore, 'no image left behind');
    } finally {
      await d.docker(['rmi', `${reg?.host}/evil/a`]);
      await reg?.stop();
    }
  });

  test('attack: ADD of a context symlink to a host archive copies the symlink, never the host file', async () => {
    const tag = randomBytes(6).toString('hex');
    const hostArchive = join(tmp, `host-secret-${tag}.tgz`);
    writeFileSync(hostArchive, gzipSync(await tarOf([{ name: 'secret.txt', body: 'host secret\n' }])));
    const ctx = join(tmp, `ctx-${tag}`);
    mkdirSync(ctx);
    symlinkSync(hostArchive, join(ctx, 'loot.tgz'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nADD loot.tgz /x/\n');
    const img = `add-link-${tag}`;
    const b = await d.docker(['build', '-q', '-t', img, ctx], { env: { DOCKER_BUILDKIT: '0' } });
    assert.equal(b.code, 0, b.stderr);
    try {
      const r = await d.docker(['run', '--rm', img, 'sh', '-c', 'ls -A /x; readlink /x/loot.tgz; cat /x/secret.txt 2>&1 || true']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /host secret/);
      assert.equal(r.stdout.split('\n')[0], 'loot.tgz', 'only the symlink is there');
      assert.equal(r.stdout.split('\n')[1], hostArchive, 'as a symlink to its target');
    } finally {
      await d.docker(['rmi', img]);
    }
  });

  test('attack: a FIFO or a device as /etc/passwd or /etc/group fails the start with a clear error and never blocks the daemon', async () => {
    const tag = randomBytes(6).toString('hex');
    const ctx = join(tmp, `fifo-${tag}`);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN rm /etc/passwd /etc/group && mkfifo /etc/passwd && mknod /etc/group c 1 5\n');
    const img = `fifo-${tag}`;
    const b = await d.docker(['build', '-q', '-t', img, ctx], { env: { DOCKER_BUILDKIT: '0' } });
    assert.equal(b.code, 0, b.stderr);
    try {
      // libuv has four threads: more starts than that would hang every later file operation
      const runs = await Promise.all([...Array(6).keys()].map(() => d.docker(['run', '--rm', '-u', 'nobody', img, 'true'], { timeoutMs: 30_000 })));
      for (const r of runs) {
        assert.notEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /cannot read \/etc\/(passwd|group) in the container: not a regular file/);
      }
      const c = await d.docker(['create', img, 'true']);
      assert.equal(c.code, 0, c.stderr);
      const exec = await d.docker(['run', '-d', 'busybox', 'sleep', '60']);
      const e = await d.docker(['exec', exec.stdout.trim(), 'true']);
      assert.equal(e.code, 0, `the daemon still serves: ${e.stderr}`);
      await d.docker(['rm', '-f', c.stdout.trim(), exec.stdout.trim()]);
    } finally {
      await d.docker(['rmi', '-f', img]);
    }
  });

  test('attack: credentials in a volume\'s mount options reach neither the client nor the log', async () => {
    const name = `creds-${randomBytes(4).toString('hex')}`;
    const c = await d.docker(['volume', 'create', '-d', 'local', '-o', 'type=cifs', '-o', 'device=//127.0.0.1/nothing', '-o', 'o=username=bob,password=hunter2-secret', name]);
    assert.equal(c.code, 0, c.stderr);
    try {
      const r = await d.docker(['run', '--rm', '-v', `${name}:/d`, 'busybox', 'true']);
      assert.notEqual(r.code, 0, 'the mount fails');
      assert.match(r.stderr, /failed to mount cifs/);
      assert.doesNotMatch(r.stderr, /hunter2/);
      assert.ok(!r.stderr.includes(d.dataRoot), `no host path: ${r.stderr}`);
      assert.doesNotMatch(d.logs, /hunter2/);
    } finally {
      await d.docker(['volume', 'rm', name]);
    }
  });

  test('attack: overlayfs xattrs carried by a layer are dropped; only a whiteout makes a directory opaque', async () => {
    // the upper layer marks /d opaque through a PAX xattr: kept, it would hide the lower layer's file
    const lower = await tarOf([{ name: 'd/' }, { name: 'd/base.txt', body: 'base' }]);
    const w = new TarWriter();
    const parts: Buffer[] = [];
    w.stream.on('data', (c: Buffer) => parts.push(c));
    const ended = new Promise((r) => w.stream.on('end', r));
    await w.add(headerDefaults({ name: 'd/', type: 'dir', mode: 0o755, pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }));
    await w.add(headerDefaults({ name: 'd/new.txt', type: 'file', size: 3, mode: 0o644 }), 'new');
    await w.finish();
    await ended;
    const upper = Buffer.concat(parts);
    const config = configOf([sha256(lower), sha256(upper)]);
    const blob = (b: Buffer) => `blobs/sha256/${sha256(b).slice(7)}`;
    const files = new Map<string, Buffer>([[blob(lower), lower], [blob(upper), upper], [blob(config), config],
      ['manifest.json', Buffer.from(JSON.stringify([{ Config: blob(config), RepoTags: ['xattrs:latest'], Layers: [blob(lower), blob(upper)] }]))]]);
    const r = await raw(d.socket, 'POST', '/v1.47/images/load?quiet=1', await packBinary(files), { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200, r.body);
    try {
      // the image has no shell: its files as a container sees them, through export
      const c = await d.docker(['create', 'xattrs', 'none']);
      assert.equal(c.code, 0, c.stderr);
      const tar = join(tmp, 'xattrs.tar');
      const exp = await d.docker(['export', '-o', tar, c.stdout.trim()]);
      assert.equal(exp.code, 0, exp.stderr);
      await d.docker(['rm', c.stdout.trim()]);
      const names = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n').filter((n) => n.startsWith('d/')).sort();
      assert.deepEqual(names, ['d/', 'd/base.txt', 'd/new.txt']);
    } finally {
      await d.docker(['rmi', 'xattrs']);
    }
  });

  describe('size caps', () => {
    let small: TestDaemon;
    const MB = 1 << 20;
    before(async () => {
      small = await TestDaemon.start({ extraArgs: ['--max-upload-size', String(MB), '--max-layer-size', String(2 * MB)] });
    });
    after(async () => {
      await small?.destroy();
    });
    const post = (path: string, body: Buffer, type = 'application/x-tar') => raw(small.socket, 'POST', `/v1.47${path}`, body, { 'Content-Type': type });
    const zeros = (n: number) => tarOf([{ name: 'zeros', body: '\0'.repeat(n) }]);

    test('a body over max-upload-size is refused with a 400 before it is stored', async () => {
      // the daemon answers from the declared length and closes without reading the body: a client
      // still writing it may get EPIPE before it reads the answer, so only the head is sent here
      const r = await rawExchange(small.socket, [`POST /v1.47/images/load HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\nContent-Length: ${MB + 1}\r\n\r\n`], { untilClose: true });
      assert.equal(r.statusLine, 'HTTP/1.1 400 Bad Request', r.data);
      assert.match(r.data, /max-upload-size/);
      assert.deepEqual(readdirSync(join(small.dataRoot, 'content', 'blobs', 'sha256')), []);
    });

    test('a small gzip that unpacks past max-layer-size is refused (load, import, build context), and nothing is stored', async () => {
      const bomb = gzipSync(await zeros(3 * MB));
      assert.ok(bomb.length < MB / 10);
      const config = configOf([sha256(await zeros(3 * MB))]);
      const blob = (b: Buffer) => `blobs/sha256/${sha256(b).slice(7)}`;
      const load = await post('/images/load', await packBinary(new Map([[blob(bomb), bomb], [blob(config), config],
        ['manifest.json', Buffer.from(JSON.stringify([{ Config: blob(config), RepoTags: ['bomb:latest'], Layers: [blob(bomb)] }]))]])));
      assert.equal(load.status, 400, load.body);
      assert.match(load.body, /max-layer-size/);
      const imp = await post('/images/create?fromSrc=-&repo=bomb', bomb).catch((err: Error) => {
        throw new Error(`${err.message}\n${small.logs.split('\n').slice(-30).join('\n')}`);
      });
      assert.match(imp.body, /max-layer-size/);
      const ctx = gzipSync(await tarOf([{ name: 'Dockerfile', body: 'FROM scratch\nCOPY zeros /\n' }, { name: 'zeros', body: '\0'.repeat(3 * MB) }]));
      const build = await post('/build?t=bomb', ctx, 'application/x-tar');
      assert.equal(build.status, 400, build.body);
      assert.match(build.body, /max-layer-size/);
      assert.equal((await small.docker(['images', '-aq'])).stdout.trim(), '', 'no image');
      assert.deepEqual(readdirSync(join(small.dataRoot, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)), [], 'no layer');
    });
  });
});
