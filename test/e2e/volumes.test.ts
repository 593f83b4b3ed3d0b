/**
 * Volumes through the real docker CLI against a real berthd: named and
 * anonymous volumes, copy-up, binds, tmpfs, --volumes-from, persistence
 * across container removal and daemon restarts, and the errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';

describe('volumes', () => {
  let d: TestDaemon;
  let hostDir: string;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    hostDir = mkdtempSync('/tmp/berth-e2e-bind-');
  });
  after(async () => {
    await d?.destroy();
    rmSync(hostDir, { recursive: true, force: true });
  });

  test('data in a named volume survives rm of the container and a daemon restart', async () => {
    const w = await d.docker(['run', '--rm', '-v', 'keep:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(w.code, 0, w.stderr);
    const ls = await d.docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
    assert.match(ls.stdout, /^local keep$/m);
    await d.restart();
    const r = await d.docker(['run', '--rm', '-v', 'keep:/data:ro', 'busybox', 'sh', '-c', 'cat /data/f; touch /data/g']);
    assert.equal(r.stdout, 'kept\n');
    assert.match(r.stderr, /Read-only file system/);
    const inspect = JSON.parse((await d.docker(['volume', 'inspect', 'keep'])).stdout)[0];
    assert.equal(inspect.Mountpoint, join(d.dataRoot, 'volumes/keep/_data'));
    assert.equal(readFileSync(join(inspect.Mountpoint, 'f'), 'utf8'), 'kept\n');
  });

  test('two containers share one volume and see each other\'s writes', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'writer', '-v', 'shared:/s', 'busybox', 'sh', '-c', 'echo one > /s/a; sleep 60'])).code, 0);
    const r = await d.docker(['run', '--rm', '-v', 'shared:/s', 'busybox', 'sh', '-c', 'sleep 0.3; cat /s/a; echo two > /s/b']);
    assert.equal(r.stdout, 'one\n');
    assert.equal((await d.docker(['exec', 'writer', 'cat', '/s/b'])).stdout, 'two\n');
    const from = await d.docker(['run', '--rm', '--volumes-from', 'writer:ro', 'busybox', 'sh', '-c', 'cat /s/b; touch /s/c']);
    assert.equal(from.stdout, 'two\n');
    assert.notEqual(from.code, 0, '--volumes-from :ro mounts read-only');

    const rm = await d.docker(['volume', 'rm', 'shared']);
    assert.equal(rm.code, 1);
    const id = (await d.docker(['inspect', '--format', '{{.Id}}', 'writer'])).stdout.trim();
    assert.match(rm.stderr, new RegExp(`remove shared: volume is in use - \\[${id}\\]`));
    assert.equal((await d.http('DELETE', '/volumes/shared')).status, 409);
    const dangling = await d.docker(['volume', 'ls', '-q', '--filter', 'dangling=true']);
    assert.doesNotMatch(dangling.stdout, /^shared$/m);
    await d.docker(['rm', '-f', 'writer']);
    assert.equal((await d.docker(['volume', 'rm', 'shared'])).code, 0);
  });

  test('an empty named volume is filled from the image; a non-empty one is left alone', async () => {
    const r = await d.docker(['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'sh', '-c', 'ls /etc/passwd && echo mine > /etc/mine']);
    assert.equal(r.code, 0, r.stderr);
    const again = await d.docker(['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'cat', '/etc/mine']);
    assert.equal(again.stdout, 'mine\n');
    const nocopy = await d.docker(['run', '--rm', '-v', 'empty:/etc:nocopy', 'busybox', 'ls', '-A', '/etc']);
    assert.doesNotMatch(nocopy.stdout, /passwd/);
  });

  test('anonymous volumes: -v /path and --rm, rm -v', async () => {
    const count = async () => (await d.docker(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).length;
    const start = await count();
    assert.equal((await d.docker(['run', '--rm', '-v', '/scratch', 'busybox', 'touch', '/scratch/x'])).code, 0);
    assert.equal(await count(), start, '--rm removes the anonymous volume');
    assert.equal((await d.docker(['create', '--name', 'anon', '-v', '/scratch', 'busybox'])).code, 0);
    const mounts = JSON.parse((await d.docker(['inspect', '--format', '{{json .Mounts}}', 'anon'])).stdout);
    assert.equal(mounts[0].Type, 'volume');
    assert.match(mounts[0].Name, /^[0-9a-f]{64}$/);
    assert.equal(await count(), start + 1);
    assert.equal((await d.docker(['rm', '-v', 'anon'])).code, 0);
    assert.equal(await count(), start);
  });

  test('bind mounts, --mount and --tmpfs', async () => {
    writeFileSync(join(hostDir, 'in.txt'), 'from host\n');
    const r = await d.docker(['run', '--rm', '-v', `${hostDir}:/h`, '--mount', `type=bind,source=${hostDir},target=/ro,readonly`,
      '--tmpfs', '/t:size=1m', '--mount', 'type=tmpfs,target=/t2', 'busybox', 'sh', '-c',
      'cat /h/in.txt; echo out > /h/out.txt; touch /ro/x 2>/dev/null || echo ro-refused; grep -E " /t2? " /proc/mounts | cut -d" " -f2,3 | sort']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from host\nro-refused\n/t tmpfs\n/t2 tmpfs\n');
    assert.equal(readFileSync(join(hostDir, 'out.txt'), 'utf8'), 'out\n');
    const missing = await d.docker(['run', '--rm', '--mount', 'type=bind,source=/nonexistent-berth,target=/x', 'busybox', 'true']);
    assert.equal(missing.code, 125);
  });

  test('volume create with options, labels, filters and prune', async () => {
    const c = await d.docker(['volume', 'create', '--label', 'tier=cache', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'tv']);
    assert.equal(c.stdout, 'tv\n');
    const df = await d.docker(['run', '--rm', '-v', 'tv:/x', 'busybox', 'sh', '-c', 'grep " /x " /proc/mounts | cut -d" " -f3']);
    assert.equal(df.stdout, 'tmpfs\n');
    const byLabel = await d.docker(['volume', 'ls', '-q', '--filter', 'label=tier=cache']);
    assert.equal(byLabel.stdout, 'tv\n');
    const bad = await d.docker(['volume', 'create', '--opt', 'foo=bar', 'badopt']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid option key: "foo"/);
    const badName = await d.http('POST', '/volumes/create', JSON.stringify({ Name: '../x' }));
    assert.equal(badName.status, 400);
    assert.equal((await d.http('GET', '/volumes/nosuch')).status, 404);
    // 1.47: prune takes anonymous volumes only, -a every unused one
    assert.equal((await d.docker(['create', '-v', '/anon', 'busybox'])).code, 0);
    await d.docker(['rm', (await d.docker(['ps', '-aq'])).stdout.trim()]);
    const p = await d.docker(['volume', 'prune', '-f']);
    assert.doesNotMatch(p.stdout, /\btv\b/);
    assert.match(p.stdout, /[0-9a-f]{64}/);
    const all = await d.docker(['volume', 'prune', '-af']);
    assert.match(all.stdout, /\btv\b/);
    assert.equal((await d.docker(['volume', 'ls', '-q'])).stdout, '');
    assert.deepEqual(d.leftovers().mounts, []);
  });
});

describe('berth volume and network commands', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('berth volume create, ls, inspect, rm, prune and run -v', async () => {
    assert.equal((await d.berth(['volume', 'create', '--label', 'a=b', 'bv'])).stdout, 'bv\n');
    const ls = await d.berth(['volume', 'ls']);
    assert.match(ls.stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+bv\n$/);
    assert.equal((await d.berth(['volume', 'ls', '--format', '{{.Name}}:{{.Driver}}'])).stdout, 'bv:local\n');
    assert.equal((await d.berth(['volume', 'inspect', '--format', '{{.Labels.a}}', 'bv'])).stdout, 'b\n');
    assert.equal((await d.berth(['run', '--rm', '-v', 'bv:/x', 'busybox', 'sh', '-c', 'echo z > /x/z'])).code, 0);
    assert.equal((await d.berth(['run', '--rm', '-v', 'bv:/x', 'busybox', 'cat', '/x/z'])).stdout, 'z\n');
    const missing = await d.berth(['volume', 'inspect', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such volume/);
    assert.equal((await d.berth(['volume', 'rm', 'bv'])).stdout, 'bv\n');
    assert.match((await d.berth(['volume', 'prune', '-f'])).stdout, /Total reclaimed space/);
  });

  test('berth network create, ls, inspect, connect, disconnect, rm', async () => {
    const c = await d.berth(['network', 'create', '--label', 'x=y', 'bn']);
    assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
    const ls = await d.berth(['network', 'ls']);
    assert.match(ls.stdout, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n/);
    assert.match(ls.stdout, /^[0-9a-f]{12}\s+bn\s+bridge\s+local$/m);
    assert.match(ls.stdout, /^[0-9a-f]{12}\s+none\s+null\s+local$/m);
    assert.equal((await d.berth(['run', '-d', '--name', 'bc', '--network', 'bn', '--network-alias', 'svc', 'busybox', 'sleep', '60'])).code, 0);
    const ping = await d.berth(['run', '--rm', '--network', 'bn', 'busybox', 'ping', '-c1', '-W2', 'svc']);
    assert.equal(ping.code, 0, ping.stderr);
    assert.equal((await d.berth(['network', 'connect', 'bridge', 'bc'])).code, 0);
    const nets = (await d.berth(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'bc'])).stdout;
    assert.deepEqual(Object.keys(JSON.parse(nets)).sort(), ['bn', 'bridge']);
    assert.equal((await d.berth(['network', 'disconnect', 'bridge', 'bc'])).code, 0);
    assert.equal((await d.berth(['network', 'inspect', '--format', '{{.Name}}', 'bn'])).stdout, 'bn\n');
    const inUse = await d.berth(['network', 'rm', 'bn']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /active endpoints/);
    await d.berth(['rm', '-f', 'bc']);
    assert.equal((await d.berth(['network', 'rm', 'bn'])).stdout, 'bn\n');
  });
});
