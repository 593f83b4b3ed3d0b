/**
 * RUN steps run through a builder-owned `runc run` (no shim, no container
 * record), with the container path's user, env, workdir, network modes and
 * security; their output streams while they run; a client that goes away
 * or a daemon killed mid-step leaves no runc container, mount, cgroup or
 * network namespace behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeDockerfile } from '../support/dockerfiles.js';
import { waitFor } from '../support/wait.js';
import { DOCKER, TestDaemon, type CommandOptions } from '../support/daemon.js';

const legacy: CommandOptions = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 180_000 };

describe('RUN steps through runc run', () => {
  let d: TestDaemon;
  let ctx: string;
  let runcRoot: string;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    ctx = mkdtempSync('/tmp/berth-build-runc-');
    runcRoot = join(d.execRoot, 'build-runc');
  });
  after(async () => {
    if (d) {
      assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
      assert.deepEqual(d.netLeftovers().netns, []);
    }
    await d?.destroy();
    if (ctx) rmSync(ctx, { recursive: true, force: true });
  });

  const dockerfile = (name: string, lines: string[]) => writeDockerfile(ctx, name, lines);
  /** runc's containers; `runc list` fails on one whose state dir goes while it lists: that one counts as still there. */
  const runcContainers = () => {
    try {
      return execFileSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n').filter(Boolean);
    } catch (err) {
      if (/no such file or directory/.test(String((err as { stderr?: string }).stderr))) return ['(being removed)'];
      throw err;
    }
  };
  /** Processes whose command line holds every one of `words`. */
  const processes = (...words: string[]) => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return words.every((w) => cmd.includes(w));
    } catch {
      return false;
    }
  });
  /** A `docker build` whose output is read as it comes. */
  const startBuild = (dir: string, tag: string) => {
    const child = spawn(DOCKER, ['build', '-t', tag, dir], { env: { ...process.env, ...d.env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    let done = false;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => { done = true; r(code); }));
    /** Waits for `text` in the output (the step echoes it: the Step line only shows the unexpanded command). */
    const printed = (text: string) => waitFor(async () => {
      if (done && !out.includes(text)) throw new Error(`the build ended without printing ${text}:\n${out}`);
      return out.includes(text);
    }, 120_000, `"${text}" in the build output`);
    return { child, output: () => out, exited, printed };
  };

  test('a RUN step runs under runc with no shim, with the image user, env, workdir and the asked network mode', async () => {
    const dir = dockerfile('identity', [
      'FROM busybox',
      'ENV STEPVAR=from-env',
      // a user known by name only in the image's /etc/passwd (busybox here has no adduser)
      'RUN echo "builder:x:1234:1234::/work:/bin/sh" >> /etc/passwd && echo "builder:x:1234:" >> /etc/group && mkdir -p /work/dir && chown 1234:1234 /work/dir',
      'WORKDIR /work/dir',
      'USER builder',
      'ARG LEVEL=3',
      'RUN echo "$(id -u):$(id -g) $STEPVAR $LEVEL $(pwd)" > who && echo "streamed-$((6*7))" && sleep 3',
      'USER root',
      'RUN --network=none ls /sys/class/net | tr "\\n" " " > /net-none',
      'RUN ls /sys/class/net | tr "\\n" " " > /net-default',
      'RUN --network=host ls /sys/class/net | tr "\\n" " " > /net-host',
      'RUN grep -E "^(Seccomp|CapEff|NoNewPrivs):" /proc/self/status > /status',
      'RUN grep "^overlay / " /proc/mounts > /rootmount',
    ]);
    const b = startBuild(dir, 'runc:identity');
    // while the `sleep 3` step runs: its output is already here, runc runs it, and no shim of this daemon exists
    await b.printed('streamed-42');
    const during = { runc: processes('runc', runcRoot, 'run'), shims: processes('containerd-shim-runc-v2', `berth:${d.execRoot}`), containers: runcContainers() };
    assert.equal(await b.exited, 0, b.output());
    assert.equal(during.runc.length, 1, 'one runc run process');
    assert.deepEqual(during.shims, []);
    assert.equal(during.containers.length, 1);
    assert.match(b.output(), /Running in [0-9a-f]{12}/);

    const read = async (path: string) => {
      const r = await d.docker(['run', '--rm', 'runc:identity', 'cat', path]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    assert.equal(await read('/work/dir/who'), '1234:1234 from-env 3 /work/dir');
    assert.equal(await read('/net-none'), 'lo');
    assert.equal(await read('/net-default'), 'eth0 lo');
    assert.ok((await read('/net-host')).split(' ').includes(d.bridge), 'the host network shows the daemon bridge');
    // the same seccomp filter, capabilities and no_new_privs as `docker run`
    const run = await d.docker(['run', '--rm', 'busybox', 'grep', '-E', '^(Seccomp|CapEff|NoNewPrivs):', '/proc/self/status']);
    assert.equal(await read('/status'), run.stdout.trim());
    // a step's rootfs is thrown away after its layer is taken: mounted `volatile` (`fsync=volatile` on
    // newer kernels), its unmount waits for no writeback (e2e lifecycle: a kept container's is not)
    assert.match(await read('/rootmount'), /[,=]volatile[,\s]/);
    // nothing of the steps is left: no container record, no runc state
    assert.equal((await d.docker(['ps', '-aq'])).stdout.trim(), '');
    assert.deepEqual(runcContainers(), []);
  });

  test('RUN ["missing"] fails with the runtime error, and leaves nothing', async () => {
    const dir = dockerfile('missing', ['FROM busybox', 'RUN ["/no/such/program"]']);
    const r = await d.docker(['build', dir], legacy);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /OCI runtime create failed: .*no such file or directory/);
    assert.deepEqual(runcContainers(), []);
  });

  test('a client that goes away mid-step cancels it: no runc container, mount, cgroup or namespace stays', async () => {
    const dir = dockerfile('cancel', ['FROM busybox', 'RUN echo "cancel-$((6*7))" && sleep 297']);
    const b = startBuild(dir, 'runc:cancel');
    await b.printed('cancel-42');
    assert.equal(runcContainers().length, 1);
    b.child.kill('SIGKILL');
    await b.exited;
    await waitFor(async () => runcContainers().length === 0 && processes('sleep', '297').length === 0, 30_000, 'the step container to go');
    await waitFor(async () => {
      const left = d.leftovers();
      return left.mounts.length === 0 && left.cgroups.length === 0 && d.netLeftovers().netns.length === 0;
    }, 30_000, 'the mounts, cgroups and namespace to go');
    assert.equal((await d.docker(['image', 'inspect', 'runc:cancel'])).code, 1);
  });

  test('a daemon killed mid-step: the next start removes the step container, its mounts, cgroup and namespace', async () => {
    const dir = dockerfile('crash', ['FROM busybox', 'RUN echo "crash-$((6*7))" && sleep 297']);
    const b = startBuild(dir, 'runc:crash');
    await b.printed('crash-42');
    d.kill9();
    await b.exited;
    // runc run outlives the daemon: the step is still running
    assert.equal(runcContainers().length, 1);
    await d.launch();
    assert.deepEqual(runcContainers(), []);
    await waitFor(async () => processes('sleep', '297').length === 0, 30_000, 'the step process to go');
    const left = d.leftovers();
    assert.deepEqual({ mounts: left.mounts, cgroups: left.cgroups }, { mounts: [], cgroups: [] });
    assert.deepEqual(d.netLeftovers().netns, []);
  });
});
