/** Start-up checks: a missing tool stops berthd with one sentence naming the Debian package. */
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter } from 'node:path';
import { SystemError } from '../errdefs/index.js';

const SEARCH_PATH = (process.env.PATH ?? '') + ':/usr/local/sbin:/usr/sbin:/sbin';

async function onPath(bin: string): Promise<boolean> {
  if (bin.includes('/')) return access(bin, constants.X_OK).then(() => true, () => false);
  // concatenated, not path.join(): see fifo-pool.ts (a doubled slash is still the same file)
  for (const dir of SEARCH_PATH.split(delimiter)) {
    if (dir && (await access(`${dir}/${bin}`, constants.X_OK).then(() => true, () => false))) return true;
  }
  return false;
}

export async function preflight(shimBinary: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new SystemError('daemon.not_root', 'berthd needs to run as root');
  const tools: [string, string][] = [
    ['runc', 'runc'], [shimBinary, 'containerd'], ['tar', 'tar'], ['mount', 'mount'], ['mkfifo', 'coreutils'],
  ];
  for (const [bin, pkg] of tools) {
    if (!(await onPath(bin))) throw new SystemError('daemon.missing_tool', `${bin} was not found: install the Debian package "${pkg}" (apt-get install ${pkg})`);
  }
  const fs = await readFile('/proc/filesystems', 'utf8');
  if (!/\toverlay$/m.test(fs)) {
    throw new SystemError('daemon.no_overlay', 'the kernel does not support overlayfs: load it with "modprobe overlay"');
  }
}
