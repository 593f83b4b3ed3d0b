/** The same walking-skeleton flow through berth's own CLI. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';

describe('berth CLI against berthd', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d?.destroy();
  });

  test('image bootstrap makes busybox from the host binary', async () => {
    const r = await d.berth(['image', 'bootstrap']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const ls = await d.berth(['images']);
    assert.match(ls.stdout, /^busybox\s+latest\s+[0-9a-f]{12}\s/m);
    const applets = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'ls /bin /sbin /usr/bin /usr/sbin | wc -l; cat /etc/passwd | head -1']);
    assert.equal(applets.code, 0, applets.stderr);
    const [count, passwd] = applets.stdout.trim().split('\n');
    assert.ok(Number(count) > 100, `only ${count} applets in /bin`);
    assert.equal(passwd, 'root:x:0:0:root:/root:/bin/sh');
  });

  test('run --rm echo, exit codes, stderr, stdin', async () => {
    const hello = await d.berth(['run', '--rm', 'busybox', 'echo', 'hello from berth']);
    assert.equal(hello.stdout, 'hello from berth\n');
    assert.equal(hello.code, 0);
    assert.equal((await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const split = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo o; echo e >&2']);
    assert.deepEqual([split.stdout, split.stderr], ['o\n', 'e\n']);
    const cat = await d.berth(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'piped\n' });
    assert.equal(cat.stdout, 'piped\n');
  });

  test('the container args after the image are not berth flags', async () => {
    const r = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo "$0 $1"', '--rm', '-d']);
    assert.equal(r.stdout, '--rm -d\n');
  });

  test('failures exit 127 for a missing command and 125 for a missing image', async () => {
    const nocmd = await d.berth(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(nocmd.code, 127);
    assert.match(nocmd.stderr, /executable file not found/);
    const noimg = await d.berth(['run', 'nosuchimage']);
    assert.equal(noimg.code, 125);
    assert.match(noimg.stderr, /Unable to find image 'nosuchimage:latest' locally/);
  });

  test('detached lifecycle: ps, logs, stop, start, inspect, rm', async () => {
    const id = (await d.berth(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo up; trap "exit 0" TERM; while true; do sleep 0.1; done'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match((await d.berth(['ps'])).stdout, /^[0-9a-f]{12}\s+busybox\s+.*Up .*\s+web$/m);
    const deadline = Date.now() + 5000;
    while ((await d.berth(['logs', 'web'])).stdout !== 'up\n' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await d.berth(['logs', 'web'])).stdout, 'up\n');
    assert.match((await d.berth(['logs', '-t', 'web'])).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z up\n$/);
    assert.equal((await d.berth(['stop', 'web'])).stdout, 'web\n');
    assert.match((await d.berth(['ps', '-a'])).stdout, /Exited \(0\)/);
    assert.equal((await d.berth(['start', 'web'])).code, 0);
    assert.equal((await d.berth(['inspect', '--format', '{{.State.Status}} {{.Name}}', 'web'])).stdout, 'running /web\n');
    const rm = await d.berth(['rm', 'web']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /You cannot remove a running container/);
    assert.equal((await d.berth(['rm', '-f', 'web'])).code, 0);
    assert.equal((await d.berth(['ps', '-aq'])).stdout, '');
  });

  test('prunes ask first (volume and network prune removed without asking before); system prune and builder prune', async () => {
    const ok = async (args: string[], input?: string) => {
      const r = await d.berth(args, input === undefined ? {} : { input });
      assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const volumes = async () => (await ok(['volume', 'ls', '-q'])).trim().split('\n').filter(Boolean).sort();
    // an anonymous volume left by a removed container, a named one, an unused network, a stopped container
    await ok(['run', '--name', 'anon', '-v', '/data', 'busybox', 'true']);
    const anon = (await ok(['inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', 'anon'])).trim();
    await ok(['rm', 'anon']);
    await ok(['volume', 'create', 'keepme']);
    await ok(['network', 'create', 'unused-net']);
    await ok(['create', '--name', 'stopped', 'busybox', 'true']);

    assert.equal(await ok(['volume', 'prune'], 'n\n'), 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    assert.deepEqual(await volumes(), [anon, 'keepme'].sort());
    assert.match(await ok(['network', 'prune'], ''), /Are you sure you want to continue\? \[y\/N\] $/, 'no answer is no');
    assert.equal((await d.berth(['network', 'inspect', 'unused-net'])).code, 0);

    const out = await ok(['system', 'prune', '--volumes'], 'y\n');
    assert.match(out, /^WARNING! This will remove:\n {2}- all stopped containers\n/);
    assert.match(out, /Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\nunused-net\n\nDeleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
    assert.deepEqual(await volumes(), ['keepme']);
    assert.equal((await d.berth(['inspect', 'stopped'])).code, 1);
    assert.equal((await d.berth(['network', 'inspect', 'unused-net'])).code, 1);
    await ok(['volume', 'rm', 'keepme']);

    // a cache mount is build cache: builder prune removes it, and then has nothing left
    const ctx = mkdtempSync(join(tmpdir(), 'berth-cli-prune-'));
    try {
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=cache,target=/c echo kept > /c/marker\n');
      await ok(['build', '-q', '-t', 'pruned', ctx]);
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
    assert.match(await ok(['builder', 'prune', '-f']), /^Deleted build cache objects:\n(\S+\n)+\nTotal reclaimed space: /);
    assert.equal(await ok(['builder', 'prune', '-f']), 'Total reclaimed space: 0B\n');
    await ok(['rmi', 'pruned']);
  });

  test('version and info talk to the daemon', async () => {
    const v = await d.berth(['version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /API version:\s+1\.47 \(minimum version 1\.24\)/);
    const i = await d.berth(['info']);
    assert.match(i.stdout, /Storage Driver: overlay2/);
  });

  test('an unreachable daemon is a clear error', async () => {
    const r = await d.berth(['ps'], { env: { BERTH_HOST: 'unix:///nonexistent/berth.sock' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot connect to the berth daemon at unix:\/\/\/nonexistent\/berth\.sock/);
  });
});
