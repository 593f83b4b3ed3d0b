/** berthd restarts: kill -9 leaves containers running and reattaches; a clean stop applies restart policies. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { DOCKER, TestDaemon } from '../support/daemon.js';
import { ShimRuntime } from '../../src/daemon/runtime/shim/shim-runtime.js';
import { waitFor } from '../support/wait.js';

describe('daemon restarts', () => {
  let d: TestDaemon;
  const inspect = async (ref: string, f: string) => (await d.docker(['inspect', '--format', f, ref])).stdout.trim();
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('kill -9 of berthd: containers keep running and everything works after the restart', async () => {
    await d.docker(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done']);
    await d.docker(['run', '-d', '--name', 'short', 'busybox', 'sh', '-c', 'sleep 1; exit 42']);
    const pid = await inspect('ticker', '{{.State.Pid}}');
    d.kill9();
    await new Promise((r) => setTimeout(r, 1500)); // `short` exits while nobody watches
    assert.ok(process.kill(Number(pid), 0), 'the container process outlived the daemon');
    await d.launch();

    assert.equal(await inspect('ticker', '{{.State.Status}} {{.State.Pid}}'), `running ${pid}`);
    assert.equal(await inspect('short', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 42');
    const before = (await d.docker(['logs', 'ticker'])).stdout.trim().split('\n');
    assert.ok(before.length > 5, 'output written while the daemon was down is kept');
    before.forEach((l, i) => assert.equal(l, `tick ${i}`));

    // logs -f follows new output after the restart
    const follow = spawn(DOCKER, ['logs', '-f', '--tail', '0', 'ticker'], { env: { ...process.env, ...d.env } });
    let followed = '';
    follow.stdout.on('data', (b: Buffer) => (followed += b.toString()));
    await waitFor(async () => followed.split('\n').filter(Boolean).length >= 3, 5000, 'followed lines');
    follow.kill();

    assert.equal((await d.docker(['exec', 'ticker', 'echo', 'exec-after-restart'])).stdout, 'exec-after-restart\n');
    const stop = await d.docker(['stop', '-t', '1', 'ticker']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await inspect('ticker', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
    await d.docker(['rm', 'ticker', 'short']);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });

  test('kill -9 between a shim start and the saved running state: the restarted daemon ends that shim', async () => {
    const id = (await d.docker(['create', '--name', 'window', 'busybox', 'true'])).stdout.trim();
    // what `start` does first, with the daemon killed before it records anything
    const runtime = new ShimRuntime({ execRoot: d.execRoot, namespace: 'berth', shimBinary: '/usr/bin/containerd-shim-runc-v2' });
    runtime.prepare(id);
    await waitFor(async () => d.leftovers().shims.length === 1, 5000, 'the shim is up');
    d.kill9();
    await d.launch();
    await waitFor(async () => d.leftovers().shims.length === 0, 5000, 'the orphan shim ended');
    const start = await d.docker(['start', '-a', 'window']);
    assert.equal(start.code, 0, start.stderr);
    await d.docker(['rm', 'window']);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });

  test('a clean daemon stop stops containers; restart policies bring the right ones back', async () => {
    await d.docker(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sleep', '300']);
    await d.docker(['run', '-d', '--name', 'unless', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
    await d.docker(['run', '-d', '--name', 'unless-stopped-by-hand', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
    await d.docker(['run', '-d', '--name', 'never', 'busybox', 'sleep', '300']);
    await d.docker(['stop', '-t', '0', 'unless-stopped-by-hand']);
    await d.restart();
    await waitFor(async () => (await inspect('always', '{{.State.Status}}')) === 'running', 5000, 'always restarted');
    await waitFor(async () => (await inspect('unless', '{{.State.Status}}')) === 'running', 5000, 'unless-stopped restarted');
    assert.equal(await inspect('unless-stopped-by-hand', '{{.State.Status}}'), 'exited');
    assert.equal(await inspect('never', '{{.State.Status}}'), 'exited');
    await d.docker(['rm', '-f', 'always', 'unless', 'unless-stopped-by-hand', 'never']);
  });
});

describe('daemon restarts with --live-restore', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ extraArgs: ['--live-restore'] });
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('a clean stop leaves containers running and ends at once; the next daemon reattaches', async () => {
    await d.docker(['run', '-d', '--name', 'kept', 'busybox', 'sleep', '300']);
    const pid = (await d.docker(['inspect', '--format', '{{.State.Pid}}', 'kept'])).stdout.trim();
    const t0 = Date.now();
    // the shims hold their events connections open: the stop must not wait for them (it hit the 120 s backstop)
    const stopped = await Promise.race([d.stopDaemon().then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
    assert.equal(stopped, true, 'berthd stopped within 10 s');
    assert.ok(Date.now() - t0 < 10_000);
    assert.ok(process.kill(Number(pid), 0), 'the container outlived the daemon');
    await d.launch();
    const state = (await d.docker(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'kept'])).stdout.trim();
    assert.equal(state, `running ${pid}`);
    await d.docker(['rm', '-f', 'kept']);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});
