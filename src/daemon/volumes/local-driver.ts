/**
 * The local driver's side effects: options of `volume create -o`, mounting
 * a tmpfs or a device at `_data` while a container uses it, and the copy of
 * the image's content into an empty volume on first use.
 */
import { lstat, readdir } from 'node:fs/promises';
import { InvalidParameter } from '../../errdefs/index.js';
import { run } from '../../lib/exec.js';
import { mount, mountsUnder, unmount } from '../../lib/mount.js';
import { resolveInRoot } from '../../lib/scoped-path.js';

const VALID_OPTIONS = new Set(['type', 'device', 'o']);

/** moby's local driver rules: known keys only, and `device` whenever options are given. */
export function validateDriverOptions(opts: Record<string, string> | null | undefined): void {
  if (!opts || Object.keys(opts).length === 0) return;
  for (const k of Object.keys(opts)) {
    if (!VALID_OPTIONS.has(k)) throw new InvalidParameter('volume.invalid_option', `invalid option key: "${k}"`);
  }
  if (!('device' in opts)) throw new InvalidParameter('volume.invalid_option', 'missing required option: "device"');
  if (opts.type === 'none' && opts.o && opts.o.split(',').includes('bind') && !opts.device.startsWith('/')) {
    throw new InvalidParameter('volume.invalid_option', `invalid device for a bind volume: "${opts.device}" is not an absolute path`);
  }
}

export function needsMount(opts: Record<string, string> | null): boolean {
  return !!opts && Object.keys(opts).length > 0;
}

/** Mounts `type`/`device`/`o` at the volume's data directory, unless it is mounted already. */
export async function mountOptionsVolume(opts: Record<string, string>, dataPath: string): Promise<void> {
  if ((await mountsUnder(dataPath)).includes(dataPath)) return;
  const options = (opts.o ?? '').split(',').filter(Boolean);
  await mount({ type: opts.type || 'none', source: opts.device!, options }, dataPath);
}

export async function unmountOptionsVolume(dataPath: string): Promise<void> {
  for (const m of await mountsUnder(dataPath)) await unmount(m);
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

/**
 * Docker's copy-up: an empty volume mounted over a directory of the image
 * starts with that directory's content, ownership and mode. The image path
 * is resolved inside the rootfs, so a symlink cannot point it at the host.
 */
export async function copyUp(rootfs: string, destination: string, dataPath: string): Promise<boolean> {
  if (!(await isEmptyDir(dataPath))) return false;
  const src = await resolveInRoot(rootfs, destination);
  const st = await lstat(src).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  // `src/.` into an existing dir copies the content and the directory's own owner and mode
  await run('cp', ['-a', '--', `${src}/.`, `${dataPath}/`]);
  return true;
}
