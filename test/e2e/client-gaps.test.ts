/**
 * What real clients found different from dockerd, each checked with the
 * docker CLI: rmi leaving parents, --chown by name, top's process list,
 * /distribution/{name}/json, search, system df, imported images' Config,
 * /.dockerenv, and a listener leak during builds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tarOf } from '../support/archives.js';
import { DOCKER, TestDaemon } from '../support/daemon.js';
import { startRegistry, type Registry } from '../support/registry.js';

const legacy = { env: { DOCKER_BUILDKIT: '0' } };

describe('real-client gaps', () => {
  let d: TestDaemon;
  let tmp: string;
  const ok = (args: string[], o = {}) => d.dockerOk(args, { ...legacy, ...o });
  const context = (name: string, dockerfile: string, files: Record<string, string> = {}) => {
    const dir = join(tmp, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
    return dir;
  };

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    tmp = mkdtempSync('/tmp/berth-gaps-');
  });
  after(async () => {
    await d?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('rmi of a built image deletes its untagged parents, one Deleted line each; --no-prune keeps them', async () => {
    const ctx = context('chain', 'FROM busybox\nRUN echo a > /a\nRUN echo b > /b\nENV X=1\n');
    const all = async () => (await ok(['images', '-aq'])).trim().split('\n').filter(Boolean).length;
    const before = await all();
    await ok(['build', '-q', '-t', 'chain:1', ctx]);
    assert.equal(await all(), before + 3, 'three step images');
    const rmi = await ok(['rmi', 'chain:1']);
    assert.equal(rmi.match(/^Deleted: /gm)?.length, 3, rmi);
    assert.equal(await all(), before, 'no dangling parent left');
    await ok(['build', '-q', '--no-cache', '-t', 'chain:2', ctx]);
    const kept = await ok(['rmi', '--no-prune', 'chain:2']);
    assert.equal(kept.match(/^Deleted: /gm)?.length, 1, kept);
    assert.equal(await all(), before + 2);
    await ok(['image', 'prune', '-f']);
  });

  test('COPY --chown by user and group names from the stage\'s own /etc/passwd and /etc/group', async () => {
    const ctx = context('chown', [
      'FROM busybox',
      'RUN echo "app:x:1234:2345::/home/app:/bin/sh" >> /etc/passwd && echo "app:x:2345:" >> /etc/group && echo "web:x:3456:" >> /etc/group',
      'COPY --chown=app:web f /a',
      'COPY --chown=app f /b',
      'COPY --chown=1:daemon f /c',
    ].join('\n'), { f: 'x' });
    await ok(['build', '-q', '-t', 'chown-names', ctx]);
    assert.equal(await ok(['run', '--rm', 'chown-names', 'stat', '-c', '%u:%g', '/a', '/b', '/c']), '1234:3456\n1234:2345\n1:1\n');
    const bad = await d.docker(['build', '-q', context('chown-bad', 'FROM busybox\nCOPY --chown=nobody-here f /a\n', { f: 'x' })], legacy);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /can't find uid for user nobody-here/);
    await ok(['rmi', 'chown-names']);
  });

  test('top -o pid,user,args lists every process of the container, whoever runs it', async () => {
    const id = (await ok(['run', '-d', 'busybox', 'sh', '-c', 'sleep 300 & sleep 301 & wait'])).trim();
    try {
      // ps alone selects only its own user's processes: the one of another user is what was missing
      await ok(['exec', '-d', '-u', 'nobody', id, 'sleep', '302']);
      await new Promise((r) => setTimeout(r, 300));
      const out = await ok(['top', id, '-o', 'pid,user,args']);
      const rows = out.trim().split('\n').slice(1);
      assert.equal(rows.length, 4, out);
      assert.ok(rows.some((r) => /sleep 302/.test(r) && /nobody|65534/.test(r)), out);
    } finally {
      await d.docker(['rm', '-f', id]);
    }
  });

  test('GET /distribution/{name}/json gives the registry\'s descriptor and platforms; search is a clear 501', async () => {
    let reg: Registry | undefined;
    try {
      reg = await startRegistry();
      const name = `${reg.host}/bb:1`;
      await ok(['tag', 'busybox', name]);
      const push = await ok(['push', name]);
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push)?.[1];
      const r = await d.http('GET', `/v1.47/distribution/${name}/json`);
      assert.equal(r.status, 200, r.body);
      const body = JSON.parse(r.body) as { Descriptor: { digest: string; mediaType: string; size: number }; Platforms: { os: string; architecture: string }[] };
      assert.equal(body.Descriptor.digest, digest);
      assert.ok(body.Descriptor.size > 0);
      assert.deepEqual(body.Platforms.map((p) => p.os), ['linux']);
      const missing = await d.http('GET', `/v1.47/distribution/${reg.host}/nothing:1/json`);
      assert.equal(missing.status, 404, missing.body);
      await ok(['rmi', name]);
    } finally {
      await reg?.stop();
    }
    const search = await d.docker(['search', 'busybox']);
    assert.notEqual(search.code, 0);
    assert.match(search.stderr, /search is not supported/);
  });

  test('system df counts volumes and leaves intermediate build images out', async () => {
    const ctx = context('df', 'FROM busybox\nRUN head -c 300000 /dev/zero > /blob\nRUN echo two > /two\n');
    await ok(['build', '-q', '-t', 'df-img', ctx]);
    await ok(['volume', 'create', 'dfvol']);
    await ok(['run', '--rm', '-v', 'dfvol:/v', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /v/data']);
    const c = (await ok(['create', 'df-img', 'true'])).trim();
    try {
      const v = await ok(['system', 'df', '-v', '--format', '{{json .}}']);
      const du = JSON.parse(v) as { Images: { ID: string; Repository: string; UniqueSize: string }[]; Volumes: { Name: string; Size: string; Links: string }[] };
      assert.ok(du.Images.every((i) => i.Repository !== '<none>'), 'no intermediate image rows');
      const row = du.Images.find((i) => i.Repository === 'df-img');
      assert.notEqual(row?.UniqueSize, '0B', JSON.stringify(row));
      const vol = du.Volumes.find((x) => x.Name === 'dfvol');
      assert.equal(vol?.Size, '100kB');
      assert.equal(vol?.Links, '0');
      const summary = await ok(['system', 'df']);
      assert.match(summary, /Local Volumes\s+\d+\s+\d+\s+\S*kB/);
    } finally {
      await d.docker(['rm', c]);
      await d.docker(['volume', 'rm', 'dfvol']);
      await d.docker(['rmi', 'df-img']);
    }
  });

  test('an imported image has dockerd\'s full Config; /.dockerenv is 0755', async () => {
    const tar = join(tmp, 'rootfs.tar');
    writeFileSync(tar, await tarOf([{ name: 'hello.txt', body: 'hi' }]));
    await ok(['import', tar, 'imported:1']);
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Config.Cmd}}', 'imported:1'])).trim(), '[]');
    const raw = JSON.parse((await d.http('GET', '/v1.47/images/imported:1/json')).body) as { Config: Record<string, unknown> };
    assert.deepEqual(Object.keys(raw.Config).sort(), ['AttachStderr', 'AttachStdin', 'AttachStdout', 'Cmd', 'Domainname', 'Entrypoint', 'Env', 'Hostname', 'Image', 'Labels', 'OnBuild', 'OpenStdin', 'StdinOnce', 'Tty', 'User', 'Volumes', 'WorkingDir']);
    assert.equal(raw.Config.Cmd, null);
    await ok(['rmi', 'imported:1']);
    assert.equal(await ok(['run', '--rm', 'busybox', 'stat', '-c', '%a', '/.dockerenv']), '755\n');
  });

  test('containers share one init layer: the same first lower dir, under neither container, untouched by what they delete', async () => {
    const a = (await ok(['create', 'busybox', 'true'])).trim();
    const b = (await ok(['create', 'busybox', 'true'])).trim();
    try {
      const lower = async (id: string) => (await ok(['inspect', '-f', '{{.GraphDriver.Data.LowerDir}}', id])).trim().split(':')[0]!;
      const [la, lb] = [await lower(a), await lower(b)];
      assert.equal(la, lb);
      assert.ok(!la.includes(a) && !la.includes(b), la);
      assert.equal(await ok(['run', '--rm', 'busybox', 'sh', '-c', 'rm /.dockerenv /etc/mtab && ls -a / | grep -c dockerenv || true']), '0\n');
      assert.equal(await ok(['run', '--rm', 'busybox', 'sh', '-c', 'stat -c %a /.dockerenv; readlink /etc/mtab']), '755\n/proc/mounts\n');
      assert.equal(await ok(['diff', a]), '', 'the init layer is no change of the container');
    } finally {
      await d.docker(['rm', a, b]);
    }
  });

  test('a build with a chatty RUN leaks no listeners (no MaxListenersExceededWarning)', async () => {
    const ctx = context('chatty', 'FROM busybox\nRUN seq 1 200000\n');
    await ok(['build', '-q', '--no-cache', '-t', 'chatty', ctx]);
    await ok(['rmi', 'chatty']);
    assert.doesNotMatch(d.logs, /MaxListenersExceededWarning/);
  });

  test('cp and layer tars as Docker writes them: type bits in the mode, owner names, opaque whiteouts with the directory\'s mode', async () => {
    const id = (await ok(['run', '-d', 'busybox', 'sh', '-c', 'rm -rf /home && mkdir /home && touch /home/new && sleep 300'])).trim();
    try {
      await new Promise((r) => setTimeout(r, 300));
      const cp = execFileSync(DOCKER, ['cp', `${id}:/etc/passwd`, '-'], { env: { ...process.env, ...d.env } });
      const cpHeaders = rawHeaders(cp);
      assert.deepEqual(cpHeaders.find((h) => h.name === 'passwd'), { name: 'passwd', mode: 0o100644, uname: 'root', gname: 'root' });
      await ok(['commit', id, 'tars:1']);
      const saved = join(tmp, 'tars.tar');
      await ok(['save', '-o', saved, 'tars:1']);
      const files = new Map(rawEntries(readFileSync(saved)).map((e) => [e.name, e.body]));
      const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Layers: string[] }[];
      const layer = rawHeaders(files.get(manifest[0]!.Layers.at(-1)!)!);
      assert.deepEqual(layer.find((h) => h.name === 'home/'), { name: 'home/', mode: 0o40755, uname: 'root', gname: 'root' });
      assert.deepEqual(layer.find((h) => h.name === 'home/.wh..wh..opq'), { name: 'home/.wh..wh..opq', mode: 0o755, uname: 'root', gname: 'root' });
      assert.equal(layer.find((h) => h.name === 'home/new')?.mode, 0o100644);
    } finally {
      await d.docker(['rm', '-f', id]);
      await d.docker(['rmi', 'tars:1']);
    }
  });
});

/** Entries of a tar (PAX headers skipped): name and body, straight from the bytes. */
function rawEntries(tar: Buffer): { name: string; mode: number; uname: string; gname: string; body: Buffer }[] {
  const out: { name: string; mode: number; uname: string; gname: string; body: Buffer }[] = [];
  const str = (b: Buffer, off: number, len: number) => b.toString('utf8', off, off + len).replace(/\0.*$/s, '');
  for (let off = 0; off + 512 <= tar.length;) {
    const h = tar.subarray(off, off + 512);
    if (h.every((c) => c === 0)) break;
    const size = parseInt(str(h, 124, 12).trim() || '0', 8);
    const flag = String.fromCharCode(h[156]!);
    const prefix = str(h, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + str(h, 0, 100);
    if (flag !== 'x' && flag !== 'g') {
      out.push({ name, mode: parseInt(str(h, 100, 8).trim(), 8), uname: str(h, 265, 32), gname: str(h, 297, 32), body: tar.subarray(off + 512, off + 512 + size) });
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function rawHeaders(tar: Buffer): { name: string; mode: number; uname: string; gname: string }[] {
  return rawEntries(tar).map(({ name, mode, uname, gname }) => ({ name, mode, uname, gname }));
}
