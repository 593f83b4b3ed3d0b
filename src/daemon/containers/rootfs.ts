/**
 * A container's filesystem: its directory, the init layer (mount points
 * and /.dockerenv, so they never show up in `diff`), the writable layer,
 * and the overlay mount that joins them with the image's layers. The init
 * layer is the same for every container, so one read-only copy serves
 * them all (docker makes one per container: ~15 file operations of every
 * container start and build step).
 */
import { access, chmod, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
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

/** The shared init layer of the containers whose directories are under `root`. */
export function initLayerPath(root: string): string {
  return join(root, 'init-layer');
}

/** `init`: the shared init layer (initLayerPath). */
export function containerPaths(dir: string, id: string, init: string): ContainerPaths {
  return {
    dir,
    init,
    upper: join(dir, 'rw', 'diff'),
    work: join(dir, 'rw', 'work'),
    merged: join(dir, 'merged'),
    hostname: join(dir, 'hostname'),
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
    log: join(dir, `${id}-json.log`),
  };
}

/** Creates the directories of a new container (and the shared init layer if this is the first). */
export async function prepareContainerDir(p: ContainerPaths): Promise<void> {
  await Promise.all([
    mkdir(p.upper, { recursive: true }),
    mkdir(p.work, { recursive: true }),
    mkdir(p.merged, { recursive: true }),
    initLayer(p.init),
  ]);
}

const initLayers = new Map<string, Promise<void>>();

/**
 * Makes the init layer at `path` unless it is there: in a temp dir renamed
 * into place, so a daemon killed meanwhile never leaves half of one. Once
 * per path and process; a failure is tried again by the next container.
 */
function initLayer(path: string): Promise<void> {
  let made = initLayers.get(path);
  if (!made) {
    made = makeInitLayer(path);
    made.catch(() => initLayers.delete(path));
    initLayers.set(path, made);
  }
  return made;
}

async function makeInitLayer(path: string): Promise<void> {
  if (await access(path).then(() => true, () => false)) return;
  const tmp = `${path}.tmp`; // one daemon per root; a killed one's is cleared here
  await rm(tmp, { recursive: true, force: true });
  await Promise.all(['dev/pts', 'dev/shm', 'proc', 'sys', 'etc'].map((d) => mkdir(join(tmp, d), { recursive: true })));
  await Promise.all([
    // 0755 as dockerd creates it (scripts test `-x /.dockerenv` as often as `-f`); chmod, not the umask, decides
    writeFile(join(tmp, '.dockerenv'), '').then(() => chmod(join(tmp, '.dockerenv'), 0o755)),
    writeFile(join(tmp, 'dev', 'console'), ''),
    writeFile(join(tmp, 'etc', 'hosts'), ''),
    writeFile(join(tmp, 'etc', 'hostname'), ''),
    writeFile(join(tmp, 'etc', 'resolv.conf'), ''),
    symlink('/proc/mounts', join(tmp, 'etc', 'mtab')),
  ]);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
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
  await initLayer(p.init); // a container made by a berth that gave each its own
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
