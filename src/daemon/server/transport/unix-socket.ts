/**
 * Creates a unix socket that is never reachable with looser rights than
 * 0660 root:GROUP: it is bound inside a fresh 0700 directory next to its
 * final path, given its owner and mode there, then renamed into place.
 * (dockerd narrows the process umask instead; the umask is process-wide,
 * and in Node other files may be created on the thread pool meanwhile.)
 */
import { chmod, chown, mkdtemp, rename, rm } from 'node:fs/promises';
import type { Server } from 'node:net';
import { basename, dirname, join } from 'node:path';

export const SOCKET_MODE = 0o660;
/** sun_path holds 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH = 107;

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function listenUnix(server: Server, path: string, gid: number): Promise<void> {
  await rm(path, { force: true }); // a stale socket from a previous run, as dockerd does
  const staging = await mkdtemp(join(dirname(path), `.${basename(path).slice(0, 8)}-`));
  try {
    const staged = join(staging, 's');
    if (Buffer.byteLength(staged) > MAX_SOCKET_PATH) {
      // no room for the staging path: bind in place; the mode is fixed right after
      await listenOn(server, path);
      await chown(path, process.getuid?.() ?? 0, gid);
      await chmod(path, SOCKET_MODE);
      return;
    }
    await listenOn(server, staged);
    await chown(staged, process.getuid?.() ?? 0, gid);
    await chmod(staged, SOCKET_MODE);
    await rename(staged, path);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
