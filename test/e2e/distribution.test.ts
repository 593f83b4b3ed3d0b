/**
 * Pull, push and login against CNCF distribution (Debian's docker-registry)
 * started on 127.0.0.1: anonymous, htpasswd Basic and token auth, through
 * the real docker CLI and berth; a proxy that corrupts or cuts blobs; an
 * index with platforms. Credentials live in a private DOCKER_CONFIG.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { TestDaemon, type CommandOptions } from '../support/daemon.js';
import { startFaultProxy, startRegistry, type Registry } from '../support/registry.js';

describe('pull, push and login', () => {
  let d: TestDaemon;
  let reg: Registry;
  let config: string;
  let env: CommandOptions;
  let multiId = '';
  let sum = '';

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    reg = await startRegistry();
    config = mkdtempSync('/tmp/berth-docker-config-');
    env = { env: { DOCKER_CONFIG: config, BERTH_CONFIG: config }, timeoutMs: 120_000 };
    // an image of three layers: busybox and two with random data
    await ok(['run', '--name', 'mk1', 'busybox', 'sh', '-c', 'head -c 3000000 /dev/urandom > /data1']);
    await ok(['commit', 'mk1', 'multi:step']);
    await ok(['run', '--name', 'mk2', 'multi:step', 'sh', '-c', 'head -c 1000000 /dev/urandom > /data2; md5sum /data1 /data2 > /sums']);
    await ok(['commit', 'mk2', 'multi:v1']);
    await ok(['rm', 'mk1', 'mk2']);
    await ok(['rmi', 'multi:step']);
    multiId = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'multi:v1'])).trim();
    sum = (await ok(['run', '--rm', 'multi:v1', 'cat', '/sums'])).trim();
  });
  after(async () => {
    await d?.destroy();
    await reg?.stop();
    if (config) rmSync(config, { recursive: true, force: true });
  });

  const ok = (args: string[], o?: CommandOptions) => d.dockerOk(args, { ...env, ...o });
  const berthOk = async (args: string[]) => {
    const r = await d.berth(args, env);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** What the image side holds on disk: blob and layer names. */
  const store = () => ({
    blobs: readdirSync(join(d.dataRoot, 'content/blobs/sha256')).sort(),
    layers: readdirSync(join(d.dataRoot, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n)).sort(),
    // layers unpacked while they downloaded, not yet committed
    unpacking: readdirSync(join(d.dataRoot, 'layers')).filter((n) => n.startsWith('.tmp-')),
  });

  test('docker push, rmi and pull give back the same image, digests recorded; a re-pull fetches nothing', async () => {
    const name = `${reg.host}/team/multi:v1`;
    await ok(['tag', 'multi:v1', name]);
    const push = await ok(['push', name]);
    assert.match(push, /Pushed/);
    const digest = /v1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(push)?.[1];
    assert.ok(digest, push);
    await ok(['rmi', name, 'multi:v1']);
    const pull = await ok(['pull', name]);
    assert.match(pull, /v1: Pulling from team\/multi/);
    assert.match(pull, /Already exists/); // the busybox layer stayed
    assert.match(pull, /Pull complete/);
    assert.match(pull, new RegExp(`Digest: ${digest}`));
    assert.match(pull, /Status: Downloaded newer image for/);
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', name])).trim(), multiId);
    assert.match(await ok(['images', '--digests', `${reg.host}/team/multi`]), new RegExp(digest!.replace(':', ':')));
    assert.equal((await ok(['run', '--rm', name, 'md5sum', '/data1', '/data2'])).trim(), sum);
    const again = await ok(['pull', name]);
    assert.match(again, /Status: Image is up to date/);
    assert.doesNotMatch(again, /Pull complete/);
    // by digest: the identical image
    const byDigest = await ok(['pull', `${reg.host}/team/multi@${digest}`]);
    assert.match(byDigest, /up to date/);
    assert.deepEqual(JSON.parse(await ok(['image', 'inspect', '-f', '{{json .RepoDigests}}', name])), [`${reg.host}/team/multi@${digest}`]);
    // pushed again: every layer is there; to another repository: mounted
    assert.match(await ok(['push', name]), /Layer already exists/);
    await ok(['tag', name, `${reg.host}/other:v2`]);
    const mounted = await ok(['push', `${reg.host}/other:v2`]);
    assert.match(mounted, /Mounted from team\/multi/);
    // an image pulled and pushed elsewhere keeps its manifest digest
    assert.match(mounted, new RegExp(`v2: digest: ${digest}`));
  });

  test('berth pull, push -a and run --pull', async () => {
    await ok(['tag', 'busybox', `${reg.host}/bb:a`]);
    await ok(['tag', 'busybox', `${reg.host}/bb:b`]);
    const pushed = await berthOk(['push', '-a', `${reg.host}/bb`]);
    assert.match(pushed, /a: digest: sha256/);
    assert.match(pushed, /b: digest: sha256/);
    await ok(['rmi', `${reg.host}/bb:a`, `${reg.host}/bb:b`]);
    assert.equal((await berthOk(['pull', '-q', `${reg.host}/bb:a`])).trim(), `${reg.host}/bb:a`);
    const all = await berthOk(['pull', '-a', `${reg.host}/bb`]);
    assert.match(all, /b: Pulling from bb/);
    assert.match(await ok(['images', '--format', '{{.Repository}}:{{.Tag}}', `${reg.host}/bb`]), /bb:b/);
    await ok(['rmi', `${reg.host}/bb:a`, `${reg.host}/bb:b`]);
    const never = await d.docker(['run', '--rm', '--pull', 'never', `${reg.host}/bb:a`, 'true'], env);
    assert.equal(never.code, 125);
    assert.match(never.stderr, /No such image/i);
    const run = await d.berth(['run', '--rm', `${reg.host}/bb:a`, 'echo', 'pulled and ran'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Unable to find image .* locally/);
    assert.equal(run.stdout.trim(), 'pulled and ran');
  });

  test('missing tags, repositories and registries are clear errors that change nothing', async () => {
    const before = store();
    const tag = await d.docker(['pull', `${reg.host}/team/multi:nope`], env);
    assert.equal(tag.code, 1);
    assert.match(tag.stderr, /manifest for .*team\/multi:nope not found: manifest unknown/);
    const repo = await d.docker(['pull', `${reg.host}/nothing/here`], env);
    assert.equal(repo.code, 1);
    assert.match(repo.stderr, /not found/);
    const down = await d.docker(['pull', '127.0.0.1:1/x:y'], env);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /127\.0\.0\.1:1.*ECONNREFUSED/);
    const bad = await d.http('POST', '/images/create?fromImage=bad%2F%2Fname&tag=x');
    assert.equal(bad.status, 400);
    assert.deepEqual(store(), before);
  });

  test('an index: the host platform is chosen, another platform is a clear error', async () => {
    const manifest = await httpGet(`http://${reg.host}/v2/team/multi/manifests/v1`, 'application/vnd.docker.distribution.manifest.v2+json');
    const index = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: manifest.digest, size: manifest.body.length, platform: { os: 'linux', architecture: 'riscv64' } },
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: manifest.digest, size: manifest.body.length, platform: { os: 'linux', architecture: process.arch === 'arm64' ? 'arm64' : 'amd64' } },
      ],
    });
    assert.equal(await httpPut(`http://${reg.host}/v2/team/multi/manifests/multiarch`, 'application/vnd.oci.image.index.v1+json', index), 201);
    const indexDigest = `sha256:${createHash('sha256').update(index).digest('hex')}`;
    await ok(['pull', `${reg.host}/team/multi:multiarch`]);
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', `${reg.host}/team/multi:multiarch`])).trim(), multiId);
    assert.match(await ok(['image', 'inspect', '-f', '{{json .RepoDigests}}', multiId]), new RegExp(indexDigest));
    const other = await d.docker(['pull', '--platform', 'linux/s390x', `${reg.host}/team/multi:multiarch`], env);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  test('a registry that corrupts a blob: the pull fails on the digest and stores nothing', async () => {
    await ok(['rmi', '-f', multiId]); // its layers must be downloaded again
    const proxy = await startFaultProxy(reg.host, 'corrupt');
    try {
      const before = store();
      const r = await d.docker(['pull', `${proxy.host}/team/multi:v1`], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /verification failed for digest sha256:[a-f0-9]{64}/);
      assert.doesNotMatch(await ok(['images', '--format', '{{.Repository}}']), new RegExp(proxy.host));
      assert.deepEqual(store(), before);
      assert.deepEqual(readdirSync(join(d.dataRoot, 'content/ingest')), []);
    } finally {
      await proxy.stop();
    }
  });

  test('a registry that drops the connection halfway: the download resumes with a Range request', async () => {
    await ok(['rmi', '-f', multiId]).catch(() => undefined);
    const proxy = await startFaultProxy(reg.host, 'cut');
    try {
      const r = await d.docker(['pull', `${proxy.host}/team/multi:v1`], env);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(proxy.requests.some((l) => /\/blobs\/sha256:.* Range:bytes=\d+-/.test(l)), proxy.requests.join('\n'));
      assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', `${proxy.host}/team/multi:v1`])).trim(), multiId);
      assert.equal((await ok(['run', '--rm', `${proxy.host}/team/multi:v1`, 'md5sum', '/data1', '/data2'])).trim(), sum);
    } finally {
      await proxy.stop();
    }
  });

  test('a registry that drops the connection halfway and then ignores the Range: the download starts over and the layer is unpacked from the verified blob', async () => {
    await ok(['rmi', '-f', multiId]).catch(() => undefined);
    const proxy = await startFaultProxy(reg.host, 'cut-no-range');
    try {
      const before = store();
      const r = await d.docker(['pull', `${proxy.host}/team/multi:v1`], env);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(proxy.requests.some((l) => /\/blobs\/sha256:.* Range:bytes=\d+-/.test(l)), proxy.requests.join('\n'));
      assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', `${proxy.host}/team/multi:v1`])).trim(), multiId);
      assert.equal((await ok(['run', '--rm', `${proxy.host}/team/multi:v1`, 'md5sum', '/data1', '/data2'])).trim(), sum);
      assert.deepEqual(store().unpacking, before.unpacking);
    } finally {
      await proxy.stop();
    }
  });

  test('a registry mirror is tried first for docker.io images', async () => {
    await ok(['tag', 'busybox', `${reg.host}/library/mirrored:v1`]);
    await ok(['push', `${reg.host}/library/mirrored:v1`]);
    const m = await TestDaemon.start({ extraArgs: ['--registry-mirror', `http://${reg.host}`] });
    try {
      const r = await m.docker(['pull', 'mirrored:v1'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Downloaded newer image for mirrored:v1/);
      assert.deepEqual(JSON.parse((await m.docker(['image', 'inspect', '-f', '{{json .RepoTags}}', 'mirrored:v1'], env)).stdout), ['mirrored:v1']);
    } finally {
      await m.destroy();
    }
  });

  for (const kind of ['basic', 'token'] as const) {
    test(`${kind} auth: wrong credentials are unauthorized and store nothing; login, push and pull work`, async () => {
      const creds = { user: 'alice', password: 'wonderland' };
      const r = await startRegistry(kind === 'basic' ? { basic: creds } : { token: creds });
      try {
        const name = `${r.host}/private/bb:v1`;
        await ok(['tag', 'busybox', name]);
        const anonymous = await d.docker(['push', name], env);
        assert.equal(anonymous.code, 1);
        assert.match(anonymous.stderr, /unauthorized|authentication required/i);
        const wrong = await d.docker(['login', '-u', 'alice', '--password-stdin', r.host], { ...env, input: 'rabbit\n' });
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, /unauthorized/i);
        assert.doesNotMatch(readConfig(config), new RegExp(r.host));
        const berthWrong = await d.berth(['login', '-u', 'alice', '-p', 'rabbit', r.host], env);
        assert.equal(berthWrong.code, 1);
        assert.match(berthWrong.stderr, /unauthorized/i);
        assert.match(await ok(['login', '-u', 'alice', '--password-stdin', r.host], { input: 'wonderland\n' }), /Login Succeeded/);
        assert.match(readConfig(config), new RegExp(r.host));
        assert.match(await ok(['push', name]), /v1: digest: sha256/);
        await ok(['rmi', name]);
        // berth reads the same config.json
        assert.match(await berthOk(['pull', name]), /Downloaded newer image/);
        await ok(['rmi', name]);
        assert.match(await berthOk(['logout', r.host]), /Removing login credentials/);
        const before = store();
        const after = await d.berth(['pull', name], env);
        assert.equal(after.code, 1);
        assert.match(after.stderr, /pull access denied|unauthorized/i);
        assert.deepEqual(store(), before);
        // berth login stores what docker login stores
        assert.match(await berthOk(['login', '-u', 'alice', '-p', 'wonderland', r.host]), /Login Succeeded/);
        assert.match(await ok(['pull', name]), /Downloaded newer image/);
        await ok(['rmi', name]);
        await berthOk(['logout', r.host]);
      } finally {
        await r.stop();
      }
    });
  }
});

function readConfig(dir: string): string {
  try {
    return readFileSync(join(dir, 'config.json'), 'utf8');
  } catch {
    return '';
  }
}

function httpGet(url: string, accept: string): Promise<{ body: Buffer; digest: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { Accept: accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` });
      });
    }).on('error', reject).end();
  });
}

function httpPut(url: string, contentType: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'Content-Type': contentType } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}
