/**
 * A container's filesystem: its directory, the init layer (mount points
 * and /.dockerenv, so they never show up in `diff`), the writable layer,
 * and the overlay mount that joins them with the image's layers.
 */
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mount, mountsUnder, unmount } from '../../lib/mount.js';
import type { Digest } from '../../oci/digest.js';
import { overlayMount, type LayerStore } from '../layers/layer-store.js';

export interface ContainerPaths {
  dir: string;
  init: string;
  upper: string;
  work: string;
  merged: string;
  hostname: string;
  hosts: string;
  resolvConf: string;
  log: string;
}

export function containerPaths(dir: string, id: string): ContainerPaths {
  return {
    dir,
    init: join(dir, 'init'),
    upper: join(dir, 'rw', 'diff'),
    work: join(dir, 'rw', 'work'),
    merged: join(dir, 'merged'),
    hostname: join(dir, 'hostname'),
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
    log: join(dir, `${id}-json.log`),
  };
}

/** Creates the directories and the init layer of a new container. */
export async function prepareContainerDir(p: ContainerPaths): Promise<void> {
  await Promise.all([
    mkdir(p.upper, { recursive: true }),
    mkdir(p.work, { recursive: true }),
    mkdir(p.merged, { recursive: true }),
    mkdir(join(p.init, 'dev', 'pts'), { recursive: true }),
    mkdir(join(p.init, 'dev', 'shm'), { recursive: true }),
    mkdir(join(p.init, 'proc'), { recursive: true }),
    mkdir(join(p.init, 'sys'), { recursive: true }),
    mkdir(join(p.init, 'etc'), { recursive: true }),
  ]);
  await Promise.all([
    // 0755 as dockerd creates it (scripts test `-x /.dockerenv` as often as `-f`); chmod, not the umask, decides
    writeFile(join(p.init, '.dockerenv'), '').then(() => chmod(join(p.init, '.dockerenv'), 0o755)),
    writeFile(join(p.init, 'dev', 'console'), ''),
    writeFile(join(p.init, 'etc', 'hosts'), ''),
    writeFile(join(p.init, 'etc', 'hostname'), ''),
    writeFile(join(p.init, 'etc', 'resolv.conf'), ''),
    symlink('/proc/mounts', join(p.init, 'etc', 'mtab')),
  ]);
}

export interface RootfsOptions {
  /**
   * A writable layer thrown away after its run (a build step's, an
   * auto-removed container's): see overlayMount. The kernel marks the work
   * dir `incompat/volatile` and refuses to mount it again until that mark
   * goes; a mount here follows a clean unmount (after a host crash the
   * container is removed at start-up, never mounted again), so the mark
   * is taken away first (`docker restart` of a `--rm` container).
   */
  volatile?: boolean;
}

/** Mounts the rootfs at `merged` unless it is mounted already (a restart after a crash). */
export async function mountRootfs(layers: LayerStore, p: ContainerPaths, layer: Digest | undefined, opts: RootfsOptions = {}): Promise<void> {
  if ((await mountsUnder(p.merged)).includes(p.merged)) return;
  const lower = [p.init, ...(layer ? await layers.lowerDirs(layer) : [])];
  if (opts.volatile) await rm(join(p.work, 'work', 'incompat'), { recursive: true, force: true });
  await mount(overlayMount(lower, p.upper, p.work, opts), p.merged);
}

export async function unmountRootfs(p: ContainerPaths): Promise<void> {
  for (const m of await mountsUnder(p.merged)) await unmount(m, true);
}

/** Mounting and unmounting a container's rootfs: the overlay mount here; unit tests hand the runner a stand-in. */
export interface RootfsMounter {
  mount(layers: LayerStore, p: ContainerPaths, layer: Digest | undefined, opts?: RootfsOptions): Promise<void>;
  unmount(p: ContainerPaths): Promise<void>;
}

export const overlayRootfs: RootfsMounter = { mount: mountRootfs, unmount: unmountRootfs };
