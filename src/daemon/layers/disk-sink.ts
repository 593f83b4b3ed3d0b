/**
 * Layer entries written to disk by berth itself: no `tar -x` process for a
 * small layer (a COPY, a RUN's capture, a pulled layer of a few files),
 * where starting tar (a fork of the daemon, its event loop stopped
 * meanwhile) was most of the time. It writes regular files, directories,
 * symlinks and hard links, with owners (as root), modes and mtimes;
 * directories get their metadata at the end, as `tar
 * --delay-directory-restore` (a 0555 directory still takes its files).
 * The first entry it does not write (a device, a whiteout, an xattr, or any
 * entry past the first SELF_WRITTEN) and every entry after it go to a GNU
 * tar sink instead, in order, so a link or a child never races the entry it
 * needs: in one process tar writes many files about twice as fast.
 *
 * Entries arrive checked by apply.ts: clean names under `root`, nothing
 * through a symlink of the layer; `root` starts empty. Nothing is fsynced
 * here: the layer store publishes a layer by renaming its finished temp
 * dir, so a daemon killed mid-write leaves a temp dir for the start-up
 * sweep, never half a layer (docs/build.md).
 */
import { constants } from 'node:fs';
import { lchown, link, lstat, lutimes, mkdir, open, rm, symlink, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TarHeader } from '../../lib/tar/index.js';
import { GnuTarSink, type EntrySink } from './gnu-tar-sink.js';

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Entries berth writes before tar takes over: about where tar's start costs what it saves (bench/README.md). */
const SELF_WRITTEN = 64;

/** What berth writes itself: plain entries without extended attributes. */
export function writtenByBerth(h: TarHeader): boolean {
  if (h.type !== 'file' && h.type !== 'dir' && h.type !== 'symlink' && h.type !== 'link') return false;
  for (const k in h.pax) if (k.startsWith('SCHILY.xattr.') || k.startsWith('LIBARCHIVE.xattr.')) return false;
  return true;
}

export class DiskSink implements EntrySink {
  private readonly dirs = new Map<string, TarHeader>();
  private fallback?: GnuTarSink;
  private readonly asRoot = process.getuid?.() === 0;
  private written = 0;

  constructor(private readonly root: string) {}

  async add(h: TarHeader, body?: AsyncIterable<Buffer>): Promise<void> {
    const path = join(this.root, h.name);
    if (this.fallback || !writtenByBerth(h) || ++this.written > SELF_WRITTEN) {
      this.fallback ??= new GnuTarSink(this.root);
      if (h.type === 'dir') this.dirs.delete(path); // its metadata is tar's now
      return this.fallback.add(h, body);
    }
    switch (h.type) {
      case 'dir':
        await this.makeDir(path);
        this.dirs.set(path, h);
        return;
      case 'file':
        return this.writeFile(path, h, body);
      case 'symlink':
        await this.place(path, () => symlink(h.linkname, path));
        if (this.asRoot) await lchown(path, h.uid, h.gid);
        await lutimes(path, h.mtime, h.mtime);
        return;
      default: // a hard link shares its target's inode and metadata
        await this.place(path, () => link(join(this.root, h.linkname), path));
    }
  }

  async finish(): Promise<void> {
    await this.fallback?.finish();
    // children before parents (the tar lists parents first): a directory's mtime is final once nothing more is made in it
    for (const [path, h] of [...this.dirs].reverse()) {
      if (this.asRoot) await lchown(path, h.uid, h.gid);
      await chmod(path, h.mode & 0o7777);
      await lutimes(path, h.mtime, h.mtime);
    }
  }

  async abort(err: Error): Promise<Error> {
    return this.fallback ? this.fallback.abort(err) : err;
  }

  private async writeFile(path: string, h: TarHeader, body: AsyncIterable<Buffer> | undefined): Promise<void> {
    const fh = await this.place(path, () => open(path, CREATE, 0o600));
    try {
      if (body) for await (const chunk of body) for (let off = 0; off < chunk.length;) off += (await fh.write(chunk, off)).bytesWritten;
      // owner before mode: a chown clears setuid and setgid bits
      if (this.asRoot) await fh.chown(h.uid, h.gid);
      await fh.chmod(h.mode & 0o7777);
      await fh.utimes(h.mtime, h.mtime);
    } finally {
      await fh.close();
    }
  }

  /** A directory, over whatever non-directory an earlier entry left at `path`. */
  private async makeDir(path: string): Promise<void> {
    try {
      await mkdir(path, { mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        await mkdir(dirname(path), { recursive: true, mode: 0o755 });
        return this.makeDir(path);
      }
      if (code !== 'EEXIST') throw err;
      if ((await lstat(path)).isDirectory()) return;
      await rm(path, { force: true });
      await mkdir(path, { mode: 0o700 });
    }
  }

  /** Creates `path` with `make`; a missing parent is made (0755, as tar), an entry already there replaced (as tar). */
  private async place<T>(path: string, make: () => Promise<T>): Promise<T> {
    try {
      return await make();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      else if (code === 'EEXIST') await rm(path, { recursive: true, force: true });
      else throw err;
      return make();
    }
  }
}
