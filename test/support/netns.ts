/**
 * Namespaces for tests, kept alive as files rather than as names under the
 * host's /run/netns: `unshare --net=<file>` makes a namespace and
 * bind-mounts it on the file, `nsenter --net=<file>` runs a command in it,
 * and unmounting the file lets it go once no process is left inside. So a
 * test never adds a name to `ip netns list`, nor the /run/netns mount that
 * `ip netns add` makes on first use.
 *
 *   /tmp/berth-cluster-1a2b3c/lan        nsfs  net:[4026532301]  (the LAN bridge)
 *   /tmp/berth-cluster-1a2b3c/node1.net  nsfs  net:[4026532377]  (node 1's "host")
 *   /tmp/berth-e2e-XXXX/mnt.ns           nsfs  mnt:[4026532410]  (see hostMountNamespace)
 *
 * The file must sit on a mount without shared propagation (unshare refuses
 * otherwise, and a shared one would copy the namespace mount elsewhere).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';

export interface Sh {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program, synchronously; throws with its stderr when it fails (unless `check` is false). */
export function sh(cmd: string, args: string[], check = true): Sh {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  const out = { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
  if (check && out.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${out.stderr.trim() || `exit ${out.code}`}`);
  return out;
}

/** `nsenter --net=<netns> <cmd> <args>`: the command sees that namespace's links, routes, iptables and /proc/sys/net. */
export function inNetns(netns: string, cmd: string, args: string[], check = true): Sh {
  return sh('nsenter', [`--net=${netns}`, '--', cmd, ...args], check);
}

/** A new network namespace kept at `file`; `setup` (sh -c) runs inside it first. Loopback is up. */
export function createNetns(file: string, setup = ''): void {
  closeSync(openSync(file, 'w'));
  try {
    sh('unshare', [`--net=${file}`, '--', 'sh', '-ec', `ip link set lo up${setup ? `\n${setup}` : ''}`]);
  } catch (err) {
    releaseNamespace(file);
    throw err;
  }
}

/**
 * A mount namespace for a daemon "host" that lives in `netns`, kept at `file`.
 * It starts as a copy of the caller's mounts; inside it, /sys is a sysfs
 * mounted from `netns` (so /sys/class/net lists that namespace's links, as
 * on a real host) with the caller's mounts below /sys bound back on it
 * (/sys/fs/cgroup: runc needs the cgroup hierarchies, which a fresh sysfs
 * hides; on systemd hosts also securityfs, bpf, ...). Mounts
 * under a directory that is shared in the caller's namespace before this
 * call (see shareDir) propagate both ways; everything else made inside
 * stays inside and goes with the namespace.
 *
 * The copy also holds the caller's other mounts of tests: namespace files
 * (other nodes', other tests') and other daemons' overlays. The private
 * ones are dropped inside (copiesToDrop), so this namespace never keeps
 * them alive or busy. Shared ones are left alone: unmounting a copy in a
 * peer group would unmount the original too.
 */
export function hostMountNamespace(file: string, netns: string, own: string): void {
  closeSync(openSync(file, 'w'));
  // the old /sys submounts stay reachable through fds 10, 11, ... (bash: no limit of 9) once the new
  // sysfs covers them; -c: take /proc/self/fd/N as is, not the path it names (now in the new sysfs)
  const subs = sysSubmounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  const script = [
    ...subs.map((m, i) => `exec ${i + 10}<${quote(m)}`),
    'mount -t sysfs sysfs /sys',
    ...subs.map((m, i) => `mount -c --rbind /proc/self/fd/${i + 10} ${quote(m)}\nexec ${i + 10}<&-`),
  ].join('\n');
  try {
    sh('nsenter', [`--net=${netns}`, '--', 'unshare', `--mount=${file}`, '--propagation', 'unchanged', '--', 'bash', '-ec', script]);
    const drop = copiesToDrop(sh('nsenter', [`--mount=${file}`, '--', 'cat', '/proc/self/mountinfo']).stdout, own);
    // best effort: a copy gone meanwhile is fine
    if (drop.length) sh('nsenter', [`--mount=${file}`, '--', 'umount', '-l', ...drop], false);
  } catch (err) {
    releaseNamespace(file);
    throw err;
  }
}

/** The mount points right below the /sys mount (each bound back with its subtree), e.g. /sys/fs/cgroup. */
export function sysSubmounts(mountinfo: string): string[] {
  const rows = mountinfo.split('\n').map((l) => l.split(' ')).filter((f) => f.length > 4);
  const sys = rows.filter((f) => f[4] === '/sys').at(-1)?.[0];
  return rows.filter((f) => f[1] === sys).map((f) => unescapeMount(f[4]!));
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Where tests keep their dirs: /tmp/berth-e2e-*, /tmp/berth-cluster-*. */
export const TEST_DIRS = '/tmp/berth-';

/**
 * Mount points of a fresh copy of mounts (mountinfo) that belong to someone
 * else and may go: private (not shared) namespace files anywhere, and
 * private mounts inside other tests' dirs, never under `own`; deepest first.
 */
export function copiesToDrop(mountinfo: string, own: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    if (f.slice(6, sep).some((o) => o.startsWith('shared:'))) continue;
    const mp = unescapeMount(f[4] ?? '');
    if (mp === own || mp.startsWith(own + '/')) continue;
    const foreign = mp.startsWith(TEST_DIRS) && mp.indexOf('/', TEST_DIRS.length) > 0;
    if (f[sep + 1] === 'nsfs' || foreign) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** The namespace id behind a namespace file (the inode that /proc/<pid>/ns/* links name). */
export function namespaceId(file: string): number {
  return statSync(file).ino;
}

/** Lets go of a namespace file: unmount (lazily) and remove it. Safe to repeat. */
export function releaseNamespace(file: string): void {
  sh('umount', ['-l', file], false);
  rmSync(file, { force: true });
}

/** Makes `dir` a mount point of itself with shared propagation, unless it is one already. */
export function shareDir(dir: string): void {
  if (!isMountPoint(dir)) sh('mount', ['--bind', dir, dir]);
  sh('mount', ['--make-shared', dir]);
}

/** Makes `dir` a private mount point of itself (on hosts where / is shared, before namespace files go in it). */
export function privateDir(dir: string): void {
  if (!isMountPoint(dir)) sh('mount', ['--bind', dir, dir]);
  sh('mount', ['--make-private', dir]);
}

export function isMountPoint(dir: string, mounts = readFileSync('/proc/self/mounts', 'utf8')): boolean {
  return mounts.split('\n').some((l) => unescapeMount(l.split(' ')[1] ?? '') === dir);
}

export function unescapeMount(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * What still holds namespace `id` (of `kind`) on this machine: processes
 * inside it, and namespace files of it mounted in our mount namespace.
 * Empty means the kernel has freed it (or will, with nothing left to reach it).
 */
export function namespaceHolders(kind: 'net' | 'mnt', id: number): { pids: number[]; mounts: string[] } {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/${kind}`) === `${kind}:[${id}]`) pids.push(Number(pid));
    } catch {
      // gone, or a kernel thread
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .filter((l) => l.split(' ')[3] === `${kind}:[${id}]`).map((l) => unescapeMount(l.split(' ')[4] ?? ''));
  return { pids, mounts };
}
