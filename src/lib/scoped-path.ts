/**
 * Resolves a path inside a root directory the way the kernel would inside a
 * chroot: symlinks are followed relative to the root and `..` never climbs
 * above it. Guards every daemon-side access to a container's filesystem
 * against links planted by the container (CVE-2018-15664 class).
 */
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';

const MAX_LINKS = 255;

export class ScopedPathError extends Error {}

/** Returns the host path for `path` in `root`; missing components are left unresolved. */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  let resolved = '';
  let todo = posix.normalize('/' + path).split('/').filter(Boolean);
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved = posix.dirname('/' + resolved).slice(1);
      continue;
    }
    const candidate = resolved ? `${resolved}/${part}` : part;
    let st;
    try {
      st = await lstat(posix.join(root, candidate));
    } catch {
      resolved = candidate;
      continue;
    }
    if (!st.isSymbolicLink()) {
      resolved = candidate;
      continue;
    }
    if (++links > MAX_LINKS) throw new ScopedPathError(`too many levels of symbolic links in ${path}`);
    const target = await readlink(posix.join(root, candidate));
    if (target.startsWith('/')) resolved = '';
    todo = [...target.split('/').filter(Boolean), ...todo];
  }
  return posix.join(root, resolved);
}
