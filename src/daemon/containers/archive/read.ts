/**
 * `GET /containers/{id}/archive`: a tar of one path of a container, whose
 * top entry is the path's base name (go-archive's TarResourceRebase). The
 * tree is walked through directory descriptors: nothing is opened by a path
 * that a symlink could redirect, files are opened with O_NOFOLLOW and
 * checked with fstat, and nothing from the container is ever executed.
 */
import type { BigIntStats } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { DirFd, errCode } from '../../../lib/dir-fd.js';
import { unshiftOwner, type IdMap } from '../../../lib/id-map.js';
import type { HostAccounts } from '../../../lib/host-accounts.js';
import { headerDefaults, type TarEntryType, type TarHeader, type TarWriter } from '../../../lib/tar/index.js';
import type { ContainerFs, FsMount, Resolution } from './rooted-fs.js';

const CHUNK = 64 * 1024;
const S_IFMT = 0o170000;

export interface ReadOptions {
  /** userns-remap: owners are shown as the container sees them. */
  idMap?: IdMap;
  /** uname/gname: the host's names for the ids, as Docker's cp tars carry them. */
  accounts?: HostAccounts;
}

function typeOf(st: BigIntStats): TarEntryType | undefined {
  switch (Number(st.mode) & S_IFMT) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    case 0o020000: return 'char';
    case 0o060000: return 'block';
    case 0o010000: return 'fifo';
    default: return undefined; // sockets are not archived (go-archive skips them)
  }
}

function headerFor(name: string, st: BigIntStats, type: TarEntryType, opts: ReadOptions): TarHeader {
  const rdev = st.rdev;
  const owner = opts.idMap ? unshiftOwner(opts.idMap, Number(st.uid), Number(st.gid)) : { uid: Number(st.uid), gid: Number(st.gid) };
  return headerDefaults({
    name: type === 'dir' && !name.endsWith('/') ? `${name}/` : name,
    type,
    mode: Number(st.mode) & 0o7777,
    uid: owner.uid,
    gid: owner.gid,
    uname: opts.accounts?.user(owner.uid) ?? '',
    gname: opts.accounts?.group(owner.gid) ?? '',
    size: type === 'file' ? Number(st.size) : 0,
    mtime: Number(st.mtimeMs / 1000n),
    ...(type === 'char' || type === 'block'
      ? { devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)), devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)) }
      : {}),
  });
}

/** Exactly `size` bytes of a file (zero-padded if it shrank while we read: the header is already out). */
async function* fileBody(fh: FileHandle, size: number): AsyncGenerator<Buffer> {
  let pos = 0;
  while (pos < size) {
    const want = Math.min(CHUNK, size - pos);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) {
      yield Buffer.alloc(size - pos);
      return;
    }
    pos += bytesRead;
    yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
  }
}

class TreeWriter {
  /** dev:ino of files with several links → the name they were first archived under. */
  private readonly links = new Map<string, string>();

  constructor(private readonly cfs: ContainerFs, private readonly tar: TarWriter, private readonly opts: ReadOptions) {}

  private async addFile(name: string, fh: FileHandle, st: BigIntStats): Promise<void> {
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) {
        await this.tar.add({ ...headerFor(name, st, 'link', this.opts), linkname: first, size: 0 });
        return;
      }
      this.links.set(key, name);
    }
    const h = headerFor(name, st, 'file', this.opts);
    await this.tar.add(h, fileBody(fh, h.size));
  }

  /** A host file bound over a container path (e.g. /etc/hosts). */
  private async addFileMount(name: string, m: FsMount): Promise<void> {
    const fh = await open(m.source, 'r').catch(() => undefined);
    if (!fh) return;
    try {
      const st = await fh.stat({ bigint: true });
      if (typeOf(st) === 'file') await this.addFile(name, fh, st);
    } finally {
      await fh.close();
    }
  }

  /** One entry `entry` of directory `dir` (container path `path`), archived as `name`. */
  async addEntry(dir: DirFd, entry: string, path: string, name: string, hint?: 'file' | 'dir'): Promise<void> {
    const mount = this.cfs.fileMounts.get(path);
    if (mount) return this.addFileMount(name, mount);
    // readdir's type saves an lstat; the open itself (O_NOFOLLOW) and fstat still decide
    if (hint === 'file' && (await this.tryFile(dir, entry, name))) return;
    if (hint === 'dir' && (await this.tryDir(dir, entry, path, name))) return;
    let st: BigIntStats;
    try {
      st = await lstat(dir.at(entry), { bigint: true });
    } catch (err) {
      if (errCode(err) === 'ENOENT') return; // gone while we walked
      throw err;
    }
    const type = typeOf(st);
    if (!type) return;
    if (type === 'dir') {
      let child: DirFd;
      try {
        child = await dir.openDir(entry);
      } catch (err) {
        if (['ELOOP', 'ENOTDIR', 'ENOENT'].includes(errCode(err) ?? '')) return; // swapped while we walked
        throw err;
      }
      try {
        await this.addDir(child, path, name);
      } finally {
        await child.close();
      }
      return;
    }
    if (type === 'file') {
      let fh: FileHandle;
      try {
        fh = await dir.openRead(entry);
      } catch (err) {
        if (['ELOOP', 'ENOENT', 'ENXIO'].includes(errCode(err) ?? '')) return;
        throw err;
      }
      try {
        const real = await fh.stat({ bigint: true });
        if (typeOf(real) === 'file') await this.addFile(name, fh, real);
      } finally {
        await fh.close();
      }
      return;
    }
    if (type === 'symlink') {
      const target = await dir.readlink(entry).catch(() => undefined);
      if (target !== undefined) await this.tar.add({ ...headerFor(name, st, 'symlink', this.opts), linkname: target });
      return;
    }
    await this.tar.add(headerFor(name, st, type, this.opts));
  }

  /** Archives `entry` if it opens as a regular file; false when it is something else now. */
  private async tryFile(dir: DirFd, entry: string, name: string): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await dir.openRead(entry);
    } catch {
      return false;
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (typeOf(st) !== 'file') return false;
      await this.addFile(name, fh, st);
      return true;
    } finally {
      await fh.close();
    }
  }

  private async tryDir(dir: DirFd, entry: string, path: string, name: string): Promise<boolean> {
    let child: DirFd;
    try {
      child = await dir.openDir(entry);
    } catch {
      return false;
    }
    try {
      await this.addDir(child, path, name);
      return true;
    } finally {
      await child.close();
    }
  }

  /** A directory we hold open: its own entry, then its children in name order. */
  async addDir(dir: DirFd, path: string, name: string): Promise<void> {
    const st = await dir.fileHandle.stat({ bigint: true });
    await this.tar.add(headerFor(name, st, 'dir', this.opts));
    const prefix = name === '/' ? '' : name;
    const entries = (await readdir(dir.self, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of entries) {
      const entry = dirent.name;
      const childPath = posix.join(path, entry);
      const childName = `${prefix}/${entry}`;
      const mount = this.cfs.dirMount(childPath);
      if (mount) {
        const m = await DirFd.open(mount.source).catch(() => undefined);
        if (!m) continue;
        try {
          await this.addDir(m, childPath, childName);
        } finally {
          await m.close();
        }
        continue;
      }
      await this.addEntry(dir, entry, childPath, childName, dirent.isFile() ? 'file' : dirent.isDirectory() ? 'dir' : undefined);
    }
  }
}

/**
 * Writes the tar of a resolved source (`follow: false`) to `tar`, its top
 * entry named `rebase` (the base name; '/' for the root itself).
 */
export async function archiveResolved(cfs: ContainerFs, src: Resolution, rebase: string, tar: TarWriter, opts: ReadOptions = {}): Promise<void> {
  const w = new TreeWriter(cfs, tar, opts);
  if (src.name === '') await w.addDir(src.dir, src.path, rebase);
  else await w.addEntry(src.dir, src.name, src.path, rebase);
}
