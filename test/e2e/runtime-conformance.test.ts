/**
 * The runtime conformance suite (src/daemon/runtime/conformance.ts) on the
 * shim runtime: real containerd-shim-runc-v2 and runc, a busybox rootfs
 * shared read-only by every task, each case with its own exec root. At the
 * end, nothing may be left: shims, runc state, mounts, cgroups.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeSpec, SpecProcess } from '../../src/oci/runtime-spec.js';
import { runtimeConformance, type Program } from '../../src/daemon/runtime/conformance.js';
import { ShimRuntime } from '../../src/daemon/runtime/shim/shim-runtime.js';
import type { Runtime } from '../../src/daemon/runtime/runtime.js';

const SHIM = '/usr/bin/containerd-shim-runc-v2';
const SUFFIX = randomBytes(4).toString('hex');
const NAMESPACE = `berth-conformance-${SUFFIX}`;
const CGROUP_PARENT = `berth-conformance-${SUFFIX}`;
const dir = mkdtempSync('/tmp/berth-runtime-conformance-');
const rootfs = join(dir, 'rootfs');

mkdirSync(join(rootfs, 'bin'), { recursive: true });
for (const d of ['proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, d));
copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
for (const applet of ['sh', 'cat', 'sleep', 'printf', 'echo', 'stty']) symlinkSync('busybox', join(rootfs, 'bin', applet));

const SIGNAMES: Record<number, string> = { 1: 'HUP', 2: 'INT', 10: 'USR1', 12: 'USR2', 15: 'TERM' };

function argv(p: Program): string[] {
  switch (p.kind) {
    case 'exit':
      return ['sh', '-c', 'printf %s "$1"; printf %s "$2" >&2; exit "$3"', 'sh', p.stdout ?? '', p.stderr ?? '', String(p.code)];
    case 'cat':
      return ['cat'];
    case 'sleep':
      return ['sleep', '1000'];
    case 'trap':
      return ['sh', '-c', `trap 'exit ${p.code}' ${SIGNAMES[p.signal]}; echo ready; while :; do sleep 0.05; done`];
    case 'missing':
      return ['/no/such/binary'];
    case 'tty-size':
      return ['sh', '-c', 'read line; stty size'];
  }
}

function processOf(p: Program): SpecProcess {
  return { terminal: false, user: { uid: 0, gid: 0 }, args: argv(p), env: ['PATH=/bin'], cwd: '/', noNewPrivileges: true };
}

function specOf(p: Program): RuntimeSpec {
  return {
    ociVersion: '1.0.2',
    process: processOf(p),
    root: { path: rootfs, readonly: true },
    hostname: 'conformance',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }],
      cgroupsPath: `/${CGROUP_PARENT}/${randomBytes(8).toString('hex')}`,
    },
  };
}

/** Shim processes serving one exec root (their command line holds its address). */
function shimsOf(execRoot: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('containerd-shim-runc-v2') && cmd.includes(`berth:${execRoot}\0`)) pids.push(Number(pid));
    } catch {
      // gone
    }
  }
  return pids;
}

function cgroupDirs(): string[] {
  const out: string[] = [];
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const parent = join('/sys/fs/cgroup', ctrl, CGROUP_PARENT);
    if (existsSync(parent)) out.push(...readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(parent, e.name)));
  }
  return out;
}

function mountsUnder(path: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(path));
}

/** What a case had to clean up by force: tasks its own code should have deleted. */
const forced: string[] = [];

runtimeConformance('shim runtime', async () => {
  const execRoot = mkdtempSync(join(dir, 'exec-'));
  const open = async () => {
    const rt = new ShimRuntime({ execRoot, namespace: NAMESPACE, shimBinary: SHIM });
    await rt.init();
    return rt;
  };
  let runtime: Runtime = await open();
  const harness = {
    runtime,
    spec: specOf,
    process: processOf,
    async reopen() {
      await runtime.close();
      runtime = await open();
      return runtime;
    },
    async cleanup() {
      for (const id of await runtime.list()) {
        forced.push(id);
        const r = await runtime.restore(id);
        if (r.state === 'alive') {
          await r.task.killAll(9).catch(() => {});
          await r.task.wait().catch(() => {});
          await r.task.delete().catch(() => {});
        }
      }
      await runtime.close();
      for (const pid of shimsOf(execRoot)) {
        forced.push(`shim ${pid}`);
        process.kill(pid, 'SIGKILL');
      }
      // a shim that ended cleanly removed its socket; one killed above did not
      const tasks = join(execRoot, 'tasks');
      for (const id of existsSync(tasks) ? readdirSync(tasks) : []) {
        const address = join(tasks, id, 'address');
        if (!existsSync(address)) continue;
        const socket = readFileSync(address, 'utf8').trim().replace(/^unix:\/\//, '');
        if (existsSync(socket)) forced.push(`socket ${socket}`);
        rmSync(socket, { force: true });
      }
      rmSync(execRoot, { recursive: true, force: true });
    },
  };
  return harness;
});

after(() => {
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const parent = join('/sys/fs/cgroup', ctrl, CGROUP_PARENT);
    if (!existsSync(parent)) continue;
    for (const e of readdirSync(parent, { withFileTypes: true })) if (e.isDirectory()) try { rmdirSync(join(parent, e.name)); } catch { /* busy */ }
    try {
      rmdirSync(parent);
    } catch {
      // reported by the last test
    }
  }
  rmSync(join('/run/containerd/runc', NAMESPACE), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

test('shim runtime: the suite left no task, shim, mount or container cgroup behind', () => {
  assert.deepEqual(forced, [], 'every case deleted its tasks itself');
  assert.deepEqual(mountsUnder(dir), []);
  assert.deepEqual(cgroupDirs(), []);
  const runcState = join('/run/containerd/runc', NAMESPACE);
  assert.deepEqual(existsSync(runcState) ? readdirSync(runcState) : [], [], 'runc holds no container state');
});
