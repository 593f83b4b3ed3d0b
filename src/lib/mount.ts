/**
 * The one executor of mount plans: a `Mount` (type, source, options) is data
 * everywhere else; here it becomes mount(8)/umount(8) calls.
 */
import { readFile } from 'node:fs/promises';
import { SystemError } from '../errdefs/index.js';
import { run, ExecError } from './exec.js';
import { redactSecrets } from './redact.js';
import { span } from './spans.js';
import { activeSpawner, describeErrno, errnoError } from './spawner/client.js';
import { Op } from './spawner/protocol.js';

/** mount(2) flags for the options mount(8) would turn into flags; the rest is filesystem data. */
const MS_FLAGS: Record<string, number> = { ro: 1, rw: 0, nosuid: 2, nodev: 4, noexec: 8, noatime: 1024, relatime: 1 << 21 };
/** mount(2) copies at most one page of data; mount(8) is not limited (fsconfig). */
const MAX_DATA = 4095;
const MNT_DETACH = 2;
const EINVAL = 22;
const ENOENT = 2;

/** tmpfs options that are filesystem data; any other option of a tmpfs plan is left to mount(8), which knows them all. */
const TMPFS_DATA = /^(size|mode|uid|gid|nr_inodes|nr_blocks)=[^,]*$/;

/** mount(2) arguments for a plan the helper can mount directly, or undefined (bind and propagation options, long data: mount(8)). */
export function directMount(plan: MountPlan): { flags: number; data: string } | undefined {
  if (plan.type !== 'overlay' && plan.type !== 'tmpfs') return undefined;
  let flags = 0;
  const data: string[] = [];
  for (const o of plan.options) {
    const f = MS_FLAGS[o];
    if (f !== undefined) flags |= f;
    else if (plan.type === 'tmpfs' && !TMPFS_DATA.test(o)) return undefined;
    else data.push(o);
  }
  const joined = data.join(',');
  return Buffer.byteLength(joined) <= MAX_DATA ? { flags, data: joined } : undefined;
}

export interface MountPlan {
  type: string;
  source: string;
  options: string[];
}

export async function mount(plan: MountPlan, target: string): Promise<void> {
  const spawner = activeSpawner();
  const direct = spawner && directMount(plan);
  if (spawner && direct) {
    const r = await span(`syscall mount ${plan.type}`, () => spawner.call({ op: Op.Mount, source: plan.source, target, fstype: plan.type, ...direct }, 'mount'));
    if (!r.errno) return;
    // mount(8) would say more ("wrong fs type, bad option, ..."); the kernel's reason is in dmesg either way
    throw new SystemError('mount.failed', `failed to mount ${plan.type}: ${describeErrno(r.errno).message}`, { cause: errnoError(r.errno, 'mount') });
  }
  const args = ['-t', plan.type];
  if (plan.options.length) args.push('-o', plan.options.join(','));
  try {
    await run('mount', [...args, plan.source, target]);
  } catch (err) {
    if (!(err instanceof ExecError)) throw err;
    // mount(8) names the host mount point; the reason is what a client needs
    const reason = redactSecrets(err.stderr.trim().split('\n')[0] ?? '').replace(/^mount(?:\.\w+)?:\s*/, '').split(`${target}: `).join('') || `exit ${err.exitCode}`;
    throw new SystemError('mount.failed', `failed to mount ${plan.type}: ${reason}`, { cause: err });
  }
}

/** Unmounts `target`; a target that is not mounted is fine. `lazy` detaches a busy mount. */
export async function unmount(target: string, lazy = false): Promise<void> {
  const spawner = activeSpawner();
  if (spawner) {
    const r = await span('syscall umount', () => spawner.call({ op: Op.Umount, target, flags: lazy ? MNT_DETACH : 0 }, 'umount'));
    // EINVAL: not a mount point; ENOENT: gone. Both mean nothing is mounted there.
    if (!r.errno || r.errno === EINVAL || r.errno === ENOENT) return;
    throw errnoError(r.errno, 'umount', target);
  }
  try {
    await run('umount', lazy ? ['-l', target] : [target]);
  } catch (err) {
    if (err instanceof ExecError && /not mounted|no mount point|not found/i.test(err.stderr)) return;
    throw err;
  }
}

/** Mount points at or below `prefix`, deepest first (the order to unmount them in). */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const target = line.split(' ')[1];
    if (!target) continue;
    // /proc/mounts escapes spaces and the like as octal
    const path = target.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : prefix + '/')) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}
