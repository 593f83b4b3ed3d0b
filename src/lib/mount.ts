/**
 * The one executor of mount plans: a `Mount` (type, source, options) is data
 * everywhere else; here it becomes mount(8)/umount(8) calls.
 */
import { readFile } from 'node:fs/promises';
import { SystemError } from '../errdefs/index.js';
import { run, ExecError } from './exec.js';
import { redactSecrets } from './redact.js';

export interface MountPlan {
  type: string;
  source: string;
  options: string[];
}

export async function mount(plan: MountPlan, target: string): Promise<void> {
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
