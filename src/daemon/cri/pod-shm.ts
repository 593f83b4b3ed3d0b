/**
 * A pod's /dev/shm: one tmpfs on the host per pod, bound at /dev/shm in the
 * sandbox and in every container that shares the pod's IPC namespace, so
 * POSIX shared memory is shared the way SysV IPC is (containerd's way, and
 * Docker's `--ipc shareable`). Each pod gets a directory of its own:
 *
 *   <root>/<random hex>/shm    tmpfs, mode 1777, 64 MiB (Docker's default size)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mount, unmount } from '../../lib/mount.js';
import { DEFAULT_SHM_SIZE } from '../containers/spec.js';

export const SHM_DESTINATION = '/dev/shm';

export class PodShm {
  constructor(private readonly root: string) {}

  /** A new pod's shm: its host path at once (for the sandbox's record), the mount being made in `ready`. */
  create(): { path: string; ready: Promise<void> } {
    const path = join(this.root, randomBytes(8).toString('hex'), 'shm');
    const ready = (async () => {
      await mkdir(path, { recursive: true, mode: 0o700 });
      try {
        await mount({ type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${DEFAULT_SHM_SIZE}`] }, path);
      } catch (err) {
        await rm(dirname(path), { recursive: true, force: true });
        throw err;
      }
    })();
    ready.catch(() => {}); // awaited by the caller, maybe only after other work failed
    return { path, ready };
  }

  /** Unmounts and removes a pod's shm (lazily: a container still holding it lets go when it ends). */
  async remove(path: string): Promise<void> {
    if (!path.startsWith(`${this.root}/`)) return;
    await unmount(path, true);
    await rm(dirname(path), { recursive: true, force: true });
  }
}

/** The pod's shm path from its sandbox's binds (`<path>:/dev/shm`), if it has one. */
export function podShmOf(binds: string[] | null | undefined): string | undefined {
  const b = (binds ?? []).find((x) => x.endsWith(`:${SHM_DESTINATION}`));
  return b ? b.slice(0, -SHM_DESTINATION.length - 1) : undefined;
}

/**
 * Whether a container's mount is its pod's shm (`<exec-root>/cri-shm/<hex>/shm`
 * at /dev/shm): berth adds it, the CRI config never asked for it, so
 * ContainerStatus leaves it out as containerd does.
 */
export function isPodShmMount(m: { Source: string; Destination: string }): boolean {
  return m.Destination === SHM_DESTINATION && /\/cri-shm\/[0-9a-f]{16}\/shm$/.test(m.Source);
}
