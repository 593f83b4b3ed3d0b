/**
 * `PUT /containers/{id}/archive`: extracts a tar into a directory of a
 * container (go-archive's Untar with Docker's options). Every entry is
 * created relative to a directory descriptor reached from the extraction
 * directory: parents are resolved inside the container root and must stay
 * below the extraction directory, files are created with O_CREAT|O_EXCL|
 * O_NOFOLLOW, and metadata is set through the new file's descriptor or with
 * calls that never follow a last-component symlink. A directory the
 * container flips into a symlink while we write cannot send a byte outside
 * its root (CVE-2018-15664), and an archive's own symlinks cannot either.
 */
import { spawn } from 'node:child_process';
import type { Stats } from 'node:fs';
import { lchown, link, lutimes, mkdir, readdir, rmdir, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidParameter, SystemError, isBerthError } from '../../../errdefs/index.js';
import { DirFd, errCode } from '../../../lib/dir-fd.js';
import { shiftOwner, type IdMap } from '../../../lib/id-map.js';
import { readTar, TarFormatError, type TarHeader } from '../../../lib/tar/index.js';
import type { ContainerFs, Resolution } from './rooted-fs.js';

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory and the reverse (the CLI always asks). */
  noOverwriteDirNonDir: boolean;
  /** copyUIDGID with a container user: every entry gets these host ids. */
  chown?: { uid: number; gid: number };
  /** userns-remap: header ids are container ids, stored shifted. */
  idMap?: IdMap;
  /** Host ids of the container's root: owner of directories the archive implies. */
  rootOwner: { uid: number; gid: number };
}

/** File finalizations allowed to run behind the extraction. */
const MAX_PENDING = 32;
/** Files up to this size are buffered so that their creation can run behind. */
const SMALL_FILE = 64 * 1024;
/** Larger files are written in pieces of at least this size (the request body comes in ~64 KiB chunks). */
const WRITE_BUFFER = 1 << 20;

/** The client's archive tries to leave the destination: its fault, a 400. */
function breakout(msg: string): InvalidParameter {
  return new InvalidParameter('archive.unsafe_path', msg);
}

/** An entry name as go-archive cleans it: leading slashes dropped, `.` and `..` resolved, no escape. */
export function cleanArchiveName(raw: string): string | undefined {
  const name = posix.normalize(raw.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (name === '.' || name === '') return undefined;
  if (name === '..' || name.startsWith('../')) throw breakout(`invalid entry name "${raw}"`);
  return name;
}

function within(path: string, dest: string): boolean {
  return path === dest || path.startsWith(dest === '/' ? '/' : `${dest}/`);
}

async function removeAll(dir: DirFd, name: string): Promise<void> {
  let isDir = false;
  try {
    isDir = (await dir.lstat(name)).isDirectory();
  } catch (err) {
    if (errCode(err) === 'ENOENT') return;
    throw err;
  }
  if (isDir) {
    let child: DirFd | undefined;
    try {
      child = await dir.openDir(name);
    } catch (err) {
      if (!['ELOOP', 'ENOTDIR'].includes(errCode(err) ?? '')) throw err;
    }
    if (child) {
      try {
        for (const n of await readdir(child.self)) await removeAll(child, n);
      } finally {
        await child.close();
      }
      await rmdir(dir.at(name));
      return;
    }
  }
  await unlink(dir.at(name));
}

/** mknod/mkfifo from the host, naming the node through the directory descriptor passed as fd 3. */
function makeNode(dir: DirFd, name: string, h: TarHeader): Promise<void> {
  const path = `/proc/self/fd/3/${name}`;
  const mode = (h.mode & 0o7777).toString(8);
  const [cmd, args] = h.type === 'fifo'
    ? ['mkfifo', ['-m', mode, path]]
    : ['mknod', ['-m', mode, path, h.type === 'char' ? 'c' : 'b', String(h.devmajor), String(h.devminor)]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe', dir.fd] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new SystemError('archive.extract_failed', `${cmd} ${name}: ${err.trim()}`))));
  });
}

/** Writes a body with few, large writes. */
async function writeCoalesced(fh: FileHandle, body: AsyncIterable<Buffer>): Promise<void> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= WRITE_BUFFER) {
      await fh.writev(parts);
      parts = [];
      size = 0;
    }
  }
  if (size) await fh.writev(parts);
}

class Extractor {
  /** The parent directory of the last entry, reused while entries stay in it. */
  private cached: { key: string; res: Resolution; gid?: number } | undefined;
  private readonly dirTimes: { name: string; mtime: number }[] = [];
  /** Container paths of the directories this extraction created (empty when made). */
  private readonly fresh = new Set<string>();
  /** File finalizations (chown, chmod, utimes, close) and small-file writes still running. */
  private readonly pending: Promise<void>[] = [];
  private readonly pendingPaths = new Set<string>();
  /** Our ids, and the umask (read once: the daemon never changes it), for what a new file gets anyway. */
  private readonly self = { uid: process.geteuid!(), gid: process.getegid!(), umask: process.umask() };

  constructor(private readonly cfs: ContainerFs, private readonly dest: Resolution, private readonly opts: ExtractOptions) {}

  private async parentOf(name: string): Promise<Resolution> {
    const key = posix.dirname(name);
    if (this.cached?.key === key) return this.cached.res;
    await this.dropCache();
    const res = await this.cfs.walk(this.dest.stack, key === '.' ? [] : key.split('/'), { follow: true, enterLast: true, create: this.opts.rootOwner });
    if (!within(res.path, this.dest.path)) {
      const path = res.path;
      await res.release();
      throw breakout(`resolved parent "${path}" escapes root "${this.dest.path}"`);
    }
    this.cached = { key, res };
    return res;
  }

  /** Group of the cached parent directory (looked up once per directory). */
  private async parentGid(): Promise<number> {
    const c = this.cached!;
    c.gid ??= (await c.res.dir.stat()).gid;
    return c.gid;
  }

  private async dropCache(): Promise<void> {
    await this.settle(); // deferred work may still name entries through the cached descriptors
    await this.cached?.res.release();
    this.cached = undefined;
  }

  private owner(h: TarHeader): { uid: number; gid: number } {
    if (this.opts.chown) return this.opts.chown;
    return this.opts.idMap ? shiftOwner(this.opts.idMap, h.uid, h.gid) : { uid: h.uid, gid: h.gid };
  }

  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const name = cleanArchiveName(h.name);
    if (name === undefined) return;
    // only small new files run behind: anything else sees the tree as the archive made it so far
    if (h.type !== 'file' || this.pendingPaths.has(name)) await this.settle();
    // an entry at or above the cached parent may replace it: resolve afresh
    if (this.cached && (this.cached.key === name || this.cached.key.startsWith(`${name}/`))) await this.dropCache();
    const parent = await this.parentOf(name);
    if (parent.top.readonly) throw new SystemError('archive.read_only', `cannot write ${posix.join(parent.path, posix.basename(name))}: read-only file system`);
    const dir = parent.dir;
    const base = posix.basename(name);
    const path = posix.join(parent.path, base);
    // a mount point (volume, /etc/hosts) cannot be replaced, as with the kernel's EBUSY in dockerd's view
    if (this.cfs.fileMounts.has(path) || (this.cfs.dirMount(path) && h.type !== 'dir')) {
      throw new SystemError('archive.busy', `unlinkat ${path}: device or resource busy`);
    }
    if (this.cfs.dirMount(path)) return;

    // in a directory this extraction made, nothing can be in the way: skip the lookup (a clash still fails O_EXCL)
    const fresh = this.fresh.has(parent.path) && h.type === 'file';
    if (fresh && h.size <= SMALL_FILE) {
      // small: read it now and let its creation run alongside the next entries (the parent stays open until settled)
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      const data = Buffer.concat(chunks);
      const { uid, gid } = this.owner(h);
      const perm = h.mode & 0o7777;
      // a new file is ours, with the directory's group under setgid or grpid: a chown to those ids, or a chmod
      // to the mode the open already gave, would change nothing (creates dominate here: every call saved counts)
      const chown = uid !== this.self.uid || gid !== this.self.gid || (await this.parentGid()) !== this.self.gid;
      const chmod = perm !== (perm & 0o777 & ~this.self.umask);
      this.pendingPaths.add(name);
      await this.defer(async () => {
        const fh = await dir.createFile(base, perm & 0o777);
        try {
          if (data.length) await fh.write(data);
          if (chown) await fh.chown(uid, gid);
          if (chmod) await fh.chmod(perm);
          await fh.utimes(h.mtime, h.mtime);
        } finally {
          await fh.close();
        }
      });
      return;
    }
    const existing = fresh ? undefined : await this.makeRoom(dir, base, name, h);
    const { uid, gid } = this.owner(h);
    const mtime = h.mtime;
    switch (h.type) {
      case 'dir': {
        if (!existing?.isDirectory()) {
          await mkdir(dir.at(base), h.mode & 0o777);
          this.fresh.add(path);
        }
        const d = await dir.openDir(base);
        try {
          await d.fileHandle.chown(uid, gid);
          await d.fileHandle.chmod(h.mode & 0o7777);
        } finally {
          await d.close();
        }
        this.dirTimes.push({ name, mtime });
        return;
      }
      case 'file': {
        let fh;
        try {
          fh = await dir.createFile(base, h.mode & 0o777);
        } catch (err) {
          if (errCode(err) !== 'EEXIST') throw err;
          await this.makeRoom(dir, base, name, h); // a duplicate entry, or the container raced us
          fh = await dir.createFile(base, h.mode & 0o777);
        }
        try {
          await writeCoalesced(fh, body);
        } catch (err) {
          await fh.close();
          throw err;
        }
        // ownership, mode and times go through the descriptor: they can finish while the next entries are written
        const file = fh;
        await this.defer(async () => {
          try {
            await file.chown(uid, gid);
            await file.chmod(h.mode & 0o7777);
            await file.utimes(mtime, mtime);
          } finally {
            await file.close();
          }
        });
        return;
      }
      case 'symlink':
        await symlink(h.linkname, dir.at(base));
        await lchown(dir.at(base), uid, gid);
        await lutimes(dir.at(base), mtime, mtime);
        return;
      case 'link': {
        let target: string | undefined;
        try {
          target = cleanArchiveName(h.linkname);
        } catch {
          target = undefined;
        }
        if (target === undefined) throw breakout(`invalid hardlink target "${h.linkname}"`);
        const tparent = await this.cfs.walk(this.dest.stack, posix.dirname(target) === '.' ? [] : posix.dirname(target).split('/'), { follow: true, enterLast: true });
        try {
          if (!within(tparent.path, this.dest.path)) throw breakout(`invalid hardlink target "${h.linkname}"`);
          await link(tparent.dir.at(posix.basename(target)), dir.at(base));
        } finally {
          await tparent.release();
        }
        await lchown(dir.at(base), uid, gid);
        return;
      }
      case 'char':
      case 'block':
      case 'fifo':
        await makeNode(dir, base, h);
        await lchown(dir.at(base), uid, gid);
        await lutimes(dir.at(base), mtime, mtime);
        return;
      default:
        throw new InvalidParameter('archive.invalid_tar', `unhandled tar entry type for ${path}`);
    }
  }

  /** What is at `base` now: kept if a directory meets a directory, else removed (Docker's rules). */
  private async makeRoom(dir: DirFd, base: string, name: string, h: TarHeader): Promise<Stats | undefined> {
    let existing: Stats | undefined;
    try {
      existing = await dir.lstat(base);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
      return undefined;
    }
    if (this.opts.noOverwriteDirNonDir && existing.isDirectory() && h.type !== 'dir') {
      throw new SystemError('archive.overwrite_dir', `cannot overwrite directory "${name}" with non-directory "${this.dest.path}"`);
    }
    if (this.opts.noOverwriteDirNonDir && !existing.isDirectory() && h.type === 'dir') {
      throw new SystemError('archive.overwrite_non_dir', `cannot overwrite non-directory "${name}" with directory "${this.dest.path}"`);
    }
    if (existing.isDirectory() && h.type === 'dir') return existing;
    await removeAll(dir, base);
    return undefined;
  }

  /** Runs `work` alongside the next entries, a bounded number at a time; errors surface at the next call or at the end. */
  private async defer(work: () => Promise<void>): Promise<void> {
    const p = work();
    this.pending.push(p);
    p.catch(() => {}); // observed below
    if (this.pending.length >= MAX_PENDING) await this.pending.shift();
  }

  private async settle(): Promise<void> {
    this.pendingPaths.clear();
    const all = this.pending.splice(0);
    const results = await Promise.allSettled(all);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Directory times last, so that creating their children does not change them. */
  async finish(): Promise<void> {
    await this.settle();
    await this.dropCache();
    for (const { name, mtime } of this.dirTimes) {
      const parent = await this.cfs.walk(this.dest.stack, posix.dirname(name) === '.' ? [] : posix.dirname(name).split('/'), { follow: true, enterLast: true }).catch(() => undefined);
      if (!parent) continue;
      try {
        if (within(parent.path, this.dest.path)) await lutimes(parent.dir.at(posix.basename(name)), mtime, mtime).catch(() => {});
      } finally {
        await parent.release();
      }
    }
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.pending.splice(0));
    await this.cached?.res.release();
    this.cached = undefined;
  }
}

/** Extracts the (uncompressed) tar `source` into the directory `dest` (a resolution naming no entry). */
export async function extractInto(cfs: ContainerFs, dest: Resolution, source: Readable | AsyncIterable<Buffer>, opts: ExtractOptions): Promise<void> {
  const x = new Extractor(cfs, dest, opts);
  try {
    for await (const e of readTar(source as AsyncIterable<Buffer>)) await x.entry(e.header, e.body);
    await x.finish();
  } catch (err) {
    await x.abort();
    if (err instanceof TarFormatError) throw new InvalidParameter('archive.invalid_tar', `invalid tar archive: ${err.message}`);
    if (isBerthError(err)) throw err;
    throw new SystemError('archive.extract_failed', (err as Error).message);
  }
}
