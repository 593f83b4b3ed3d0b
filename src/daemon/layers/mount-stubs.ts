/**
 * Mount points a runtime created in a container's upper dir for its mounts
 * (an empty file for a secret, an empty directory for a cache): BuildKit's
 * MountStubsCleaner removes those that are still empty after the step, so
 * `/run/secrets/token` or `/root/.cache` do not end up in the layer.
 */
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { resolveInRoot } from '../../lib/scoped-path.js';

/** `stubs`: absolute container paths, deepest first (a stub's created parents after it). */
export async function removeMountStubs(upper: string, stubs: string[]): Promise<void> {
  for (const stub of stubs) {
    const clean = posix.normalize(`/${stub}`);
    if (clean === '/') continue;
    let path: string;
    try {
      // the step may have put symlinks on the way: stay inside the upper dir
      path = join(await resolveInRoot(upper, posix.dirname(clean)), posix.basename(clean));
    } catch {
      continue;
    }
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    if (st.isFile() && st.size === 0) await unlink(path).catch(() => {});
    else if (st.isDirectory() && (await readdir(path)).length === 0) await rmdir(path).catch(() => {});
  }
}
