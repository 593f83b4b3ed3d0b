/**
 * `docker cp`'s daemon side: stat, archive and extract a path of a running
 * or stopped container (HEAD/GET/PUT /containers/{id}/archive).
 *
 * Each operation holds the container's lock, as dockerd does: a stopped
 * container's rootfs is mounted for the operation and unmounted after, a
 * running one's is used where it is mounted. Paths are resolved inside the
 * container's root, volumes and bind mounts included, by ContainerFs; the
 * readers and writers in read.ts and extract.ts never open a
 * path a symlink could redirect and never run anything from the container.
 *
 *   const s = await archive.statPath('web', '/etc/hostname');     // PathStat
 *   const { stat, tar } = await archive.archivePath('web', '/etc'); // tar stream, top entry "etc/"
 *   await archive.extractToDir('web', '/tmp', tarStream, { noOverwriteDirNonDir: true, copyUIDGID: false });
 */
import { lstat, stat as hostStat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidParameter, NotFound, SystemError } from '../../../errdefs/index.js';
import { goBase, preserveTrailingDotOrSeparator } from '../../../lib/copy-paths.js';
import { rootPair, shiftOwner, type IdMap } from '../../../lib/id-map.js';
import { hostAccounts } from '../../../lib/host-accounts.js';
import type { Logger } from '../../../lib/logger.js';
import { TarWriter } from '../../../lib/tar/index.js';
import type { EventBus } from '../../events/event-bus.js';
import type { LayerStore } from '../../layers/layer-store.js';
import { archiveResolved } from './read.js';
import { extractInto } from './extract.js';
import type { PathStat } from '../../../api/path-stat.js';
import { goFileMode, goTime } from './stat.js';
import type { ContainerStore } from '../container-store.js';
import { ContainerFs, isNotDirectory, isNotFound, type FsMount, type Resolution } from './rooted-fs.js';
import { eventAttributes, type ContainerRecord } from '../record.js';
import { mountRootfs, unmountRootfs, type ContainerPaths } from '../rootfs.js';
import { readContainerFile } from './rootfs-file.js';
import { resolveUser } from '../user.js';


export interface ArchiveDeps {
  store: ContainerStore;
  layers: LayerStore;
  events: EventBus;
  log: Logger;
  paths(id: string): ContainerPaths;
  /** The container's lock (the runner's): start/stop/rm wait while a copy runs. */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** userns-remap: the container's ids map to these host ids. */
  idMap?: IdMap;
}

export interface ExtractRequest {
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
}

/** Docker answers 500 here: lstat's own error. */
function notADirectory(abs: string): SystemError {
  const e = new SystemError('archive.not_a_directory', `lstat ${abs}: not a directory`);
  return e;
}

function fileNotFound(path: string, ref: string): NotFound {
  return new NotFound('archive.path_not_found', `Could not find the file ${path} in container ${ref}`);
}

/** The container path to work on, as dockerd forms it: absolute, clean, trailing `/` or `/.` kept. */
function absolute(path: string): string {
  return preserveTrailingDotOrSeparator(posix.join('/', path), path);
}

/** A trailing `/` or `/.` means "the directory": a symlink there is followed. */
function followsLast(abs: string): boolean {
  return abs.endsWith('/') || abs.endsWith('/.');
}

export class ArchiveService {
  constructor(private readonly d: ArchiveDeps) {}

  /** What a container's filesystem has mounted over its rootfs: volumes, binds, the network files. */
  private async mountsOf(rec: ContainerRecord, paths: ContainerPaths): Promise<FsMount[]> {
    const out: FsMount[] = [];
    for (const m of rec.mounts ?? []) {
      if (!m.Source || !m.Destination) continue; // tmpfs lives only in the container's mount namespace
      const st = await hostStat(m.Source).catch(() => undefined);
      if (!st) continue;
      out.push({ destination: posix.normalize(m.Destination), source: m.Source, readonly: !m.RW, kind: st.isDirectory() ? 'dir' : 'file' });
    }
    const taken = new Set(out.map((m) => m.destination));
    for (const [destination, source] of [['/etc/hosts', paths.hosts], ['/etc/hostname', paths.hostname], ['/etc/resolv.conf', paths.resolvConf]] as const) {
      if (taken.has(destination) || !(await hostStat(source).catch(() => undefined))) continue;
      out.push({ destination, source, readonly: false, kind: 'file' });
    }
    return out;
  }

  /**
   * Runs `fn` on the container's filesystem under its lock; a stopped
   * container's rootfs is mounted for the time of `fn` only.
   */
  private async withFs<T>(rec: ContainerRecord, fn: (cfs: ContainerFs) => Promise<T>): Promise<T> {
    return this.d.withLock(rec.id, async () => {
      if (!this.d.store.find(rec.id)) throw new NotFound('container.not_found', `No such container: ${rec.id}`);
      const paths = this.d.paths(rec.id);
      const mounted = !rec.state.Running;
      if (mounted) await mountRootfs(this.d.layers, paths, rec.layer);
      try {
        const cfs = await ContainerFs.open(paths.merged, await this.mountsOf(rec, paths), { readonlyRootfs: !!rec.hostConfig.ReadonlyRootfs });
        try {
          return await fn(cfs);
        } finally {
          await cfs.close();
        }
      } finally {
        if (mounted) await unmountRootfs(paths).catch((err: Error) => this.d.log.warn('unmounting after a copy failed', { id: rec.id, error: err.message }));
      }
    });
  }

  private async statOf(cfs: ContainerFs, res: Resolution, abs: string): Promise<PathStat> {
    const mount = cfs.fileMounts.get(res.path);
    const st = mount
      ? await hostStat(mount.source, { bigint: true })
      : res.name === '' ? await res.dir.fileHandle.stat({ bigint: true }) : await lstat(res.dir.at(res.name), { bigint: true });
    const mode = goFileMode(Number(st.mode));
    let linkTarget = '';
    if ((Number(st.mode) & 0o170000) === 0o120000) {
      const target = await cfs.resolve(abs, { follow: true }).catch(() => undefined);
      if (target) {
        linkTarget = target.path;
        await target.release();
      }
    }
    return { name: goBase(abs), size: Number(st.size), mode, mtime: goTime(st.mtimeMs / 1000n, st.mtimeNs % 1_000_000_000n), linkTarget };
  }

  private async resolveSource(cfs: ContainerFs, ref: string, path: string): Promise<{ res: Resolution; stat: PathStat }> {
    const abs = absolute(path);
    let res: Resolution | undefined;
    try {
      // `dir/` and `dir/.` mean the directory itself: enter it and stat what we hold, so a swap cannot change the answer
      res = await cfs.resolve(abs, followsLast(abs) ? { follow: true, enterLast: true } : { follow: false });
      return { res, stat: await this.statOf(cfs, res, abs) };
    } catch (err) {
      await res?.release();
      if (isNotFound(err)) throw fileNotFound(path, ref);
      if (isNotDirectory(err)) throw notADirectory(abs);
      throw err;
    }
  }

  /** HEAD: the stat of a path (symlinks in the last component not followed). */
  async statPath(ref: string, path: string): Promise<PathStat> {
    const rec = this.d.store.get(ref);
    return this.withFs(rec, async (cfs) => {
      const { res, stat } = await this.resolveSource(cfs, ref, path);
      await res.release();
      return stat;
    });
  }

  /**
   * GET: the stat now, and a tar stream that keeps the container's lock
   * until it ends (or the reader goes away: destroy the stream).
   */
  archivePath(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    const rec = this.d.store.get(ref);
    return new Promise((resolveOuter, rejectOuter) => {
      this.withFs(rec, async (cfs) => {
        const { res, stat } = await this.resolveSource(cfs, ref, path);
        // Docker's cp tars: type bits in the mode, host names for the owners
        const tar = new TarWriter({ typeBits: true });
        resolveOuter({ stat, tar: tar.stream });
        try {
          await archiveResolved(cfs, res, stat.name, tar, { accounts: await hostAccounts(), ...(this.d.idMap ? { idMap: this.d.idMap } : {}) });
          await tar.finish();
        } catch (err) {
          tar.abort(err as Error);
        } finally {
          await res.release();
        }
        this.d.events.publish('container', 'archive-path', rec.id, eventAttributes(rec, { path }));
      }).catch(rejectOuter);
    });
  }

  /** PUT: extracts a tar into an existing directory of the container. */
  async extractToDir(ref: string, path: string, body: Readable, req: ExtractRequest): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.withFs(rec, async (cfs) => {
      let dest: Resolution;
      try {
        dest = await cfs.resolve(absolute(path), { follow: true, enterLast: true });
      } catch (err) {
        if (isNotFound(err)) throw fileNotFound(path, ref);
        if (isNotDirectory(err)) throw new InvalidParameter('archive.not_a_directory', 'extraction point is not a directory');
        throw err;
      }
      try {
        if (dest.top.readonly) {
          const inMount = rec.mounts.some((m) => dest.path === posix.normalize(m.Destination) || dest.path.startsWith(`${posix.normalize(m.Destination)}/`));
          throw new InvalidParameter('archive.read_only', inMount ? 'mounted volume is marked read-only' : 'container rootfs is marked read-only');
        }
        const rootOwner = this.d.idMap ? rootPair(this.d.idMap) : { uid: 0, gid: 0 };
        const chown = req.copyUIDGID && rec.config.User ? await this.containerUser(cfs, rec.config.User) : undefined;
        await extractInto(cfs, dest, body, {
          noOverwriteDirNonDir: req.noOverwriteDirNonDir, rootOwner,
          ...(chown ? { chown } : {}), ...(this.d.idMap && !chown ? { idMap: this.d.idMap } : {}),
        });
      } finally {
        await dest.release();
      }
    });
    this.d.events.publish('container', 'extract-to-dir', rec.id, eventAttributes(rec, { path }));
  }

  /** `-a` copies to the container's configured user: resolved in its own /etc/passwd and /etc/group. */
  private async containerUser(cfs: ContainerFs, user: string): Promise<{ uid: number; gid: number }> {
    const [passwd, group] = await Promise.all([readContainerFile(cfs, '/etc/passwd'), readContainerFile(cfs, '/etc/group')]);
    const u = resolveUser(user, passwd, group);
    return this.d.idMap ? shiftOwner(this.d.idMap, u.uid, u.gid) : { uid: u.uid, gid: u.gid };
  }
}
