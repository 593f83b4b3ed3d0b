/**
 * The walking skeleton through the real docker CLI (28.x negotiating API
 * 1.47, and Debian's 20.10 negotiating 1.41) against a real berthd.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TestDaemon } from '../support/daemon.js';

describe('docker CLI against berthd', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('version negotiates API 1.47 and shows the berth server', async () => {
    const r = await d.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Version}} {{.Client.APIVersion}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^1\.47 27\.0\.0-berth 1\.47$/);
  });

  test('info shows counts and the storage driver', async () => {
    const r = await d.docker(['info', '--format', '{{.Driver}} {{.OSType}} {{.Images}} {{.Swarm.LocalNodeState}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'overlay2 linux 1 inactive');
  });

  test('images and image inspect show the imported busybox', async () => {
    const ls = await d.docker(['images']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);
    assert.match(ls.stdout, /^busybox\s+latest\s+[0-9a-f]{12}\s+.*ago\s+\d+(\.\d+)?MB$/m);
    const inspect = JSON.parse((await d.docker(['image', 'inspect', 'busybox'])).stdout) as Record<string, unknown>[];
    assert.equal(inspect.length, 1);
    assert.deepEqual(inspect[0]!.RepoTags, ['busybox:latest']);
    assert.deepEqual((inspect[0]!.Config as { Cmd: string[] }).Cmd, ['sh']);
    assert.match(String(inspect[0]!.Id), /^sha256:[0-9a-f]{64}$/);
  });

  test('run --rm prints the output and removes the container', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
  });

  test('the exit status of the container is the exit status of run', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
  });

  test('stdout and stderr stay separate', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2']);
    assert.equal(r.stdout, 'to-out\n');
    assert.equal(r.stderr, 'to-err\n');
  });

  test('a missing command exits 127 with the runtime error', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '', 'a --rm container that failed to start is removed');
  });

  test('a missing image is a clear error and exit 125', async () => {
    const r = await d.docker(['run', '--rm', 'nosuchimage']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Unable to find image 'nosuchimage:latest' locally/);
    assert.match(r.stderr, /Error response from daemon/);
  });

  test('piped stdin reaches the container and EOF closes it', async () => {
    const r = await d.docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo eof-seen'], { input: 'a\nb\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a\nb\neof-seen\n');
  });

  test('a detached container: ps, logs, stop, start, inspect, rm -f', async () => {
    const run = await d.docker(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo started; trap "exit 0" TERM; while true; do sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await d.docker(['ps']);
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo started…"\\s+.* ago\\s+Up .*\\s+web$`, 'm'));

    await waitFor(async () => (await d.docker(['logs', 'web'])).stdout === 'started\n');
    const stop = await d.docker(['stop', 'web']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, 'web\n');
    assert.equal((await d.docker(['ps', '-q'])).stdout, '');
    assert.match((await d.docker(['ps', '-a'])).stdout, /Exited \(0\) .* ago\s+web$/m);

    assert.equal((await d.docker(['start', 'web'])).code, 0);
    const state = await d.docker(['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.Name}} {{.GraphDriver.Name}}', 'web']);
    assert.equal(state.stdout.trim(), 'running true /web overlay2');
    await waitFor(async () => (await d.docker(['logs', 'web'])).stdout === 'started\nstarted\n');

    const inspect = JSON.parse((await d.docker(['inspect', 'web'])).stdout) as Record<string, any>[];
    const c = inspect[0]!;
    assert.equal(c.Id, id);
    assert.equal(c.Config.Image, 'busybox');
    assert.deepEqual(c.Mounts, []);
    assert.ok(c.State.Pid > 0);
    assert.match(c.GraphDriver.Data.UpperDir, /rw\/diff$/);
    assert.equal(c.HostConfig.LogConfig.Type, 'json-file');

    const rm = await d.docker(['rm', 'web']);
    assert.equal(rm.code, 1, 'removing a running container needs force');
    assert.match(rm.stderr, /You cannot remove a running container/);
    assert.equal((await d.docker(['rm', '-f', 'web'])).code, 0);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
    const gone = await d.docker(['inspect', 'web']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such object: web/);
  });

  test('the daemon is not the parent of the container process', async () => {
    const id = (await d.docker(['run', '-d', 'busybox', 'sleep', '100'])).stdout.trim();
    const pid = Number((await d.docker(['inspect', '--format', '{{.State.Pid}}', id])).stdout.trim());
    const ppid = (p: number) => Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))![1]);
    const shim = ppid(pid);
    assert.match(readFileSync(`/proc/${shim}/cmdline`, 'utf8'), /containerd-shim-runc-v2/);
    assert.notEqual(ppid(shim), d.pid);
    assert.notEqual(shim, d.pid);
    await d.docker(['rm', '-f', id]);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });

  test('name conflicts are refused with 409 wording', async () => {
    assert.equal((await d.docker(['create', '--name', 'twice', 'busybox'])).code, 0);
    const r = await d.docker(['create', '--name', 'twice', 'busybox']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Conflict\. The container name "\/twice" is already in use/);
    await d.docker(['rm', 'twice']);
  });

  test('the docker 20.10 CLI works at API 1.41', async () => {
    const v = await d.docker2010(['version', '--format', '{{.Server.APIVersion}}']);
    assert.equal(v.stdout.trim(), '1.47');
    const r = await d.docker2010(['run', '--rm', 'busybox', 'sh', '-c', 'echo old-cli; exit 4']);
    assert.equal(r.stdout, 'old-cli\n');
    assert.equal(r.code, 4);
  });
});

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('condition not met in time');
}
