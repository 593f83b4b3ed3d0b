/**
 * openat(2)-style access for Node, which has no *at syscalls: hold a
 * directory open and name its entries as `/proc/self/fd/<fd>/<name>`. The
 * kernel resolves `<name>` inside the directory the descriptor holds,
 * wherever that directory is now, so a path component that a container
 * swaps for a symlink between two steps cannot redirect us. Final
 * components are never followed: opens use O_NOFOLLOW, and lstat, lchown,
 * lutimes, readlink, mkdir, symlink, link, unlink, rmdir and rename do not
 * follow a last-component symlink by definition.
 *
 *   const root = await DirFd.open('/var/lib/berth/containers/<id>/merged');
 *   const etc = await root.openDir('etc');          // ELOOP if etc is a symlink
 *   await etc.lstat('passwd');
 *   etc.close(); root.close();
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { lstat, readlink } from 'node:fs/promises';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** A single path component: no slash, not `.` or `..`, not empty. */
export function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

export class DirFd {
  private constructor(private readonly handle: FileHandle) {}

  /** Opens a trusted host directory (following symlinks in `path`). */
  static async open(path: string): Promise<DirFd> {
    return new DirFd(await open(path, O_RDONLY | O_DIRECTORY));
  }

  get fd(): number {
    return this.handle.fd;
  }

  /** The path that names this directory itself (for readdir). */
  get self(): string {
    return `/proc/self/fd/${this.handle.fd}`;
  }

  /** The path that names `name` inside this directory; `name` must be a single component. */
  at(name: string): string {
    if (!isPlainName(name)) throw new Error(`not a single path component: ${JSON.stringify(name)}`);
    return `/proc/self/fd/${this.handle.fd}/${name}`;
  }

  /** Opens the child directory `name`; ELOOP when it is a symlink, ENOTDIR when it is not a directory. */
  async openDir(name: string): Promise<DirFd> {
    return new DirFd(await open(this.at(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  }

  /** Opens the child `name` for reading without following a symlink or blocking on a FIFO. */
  openRead(name: string): Promise<FileHandle> {
    return open(this.at(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  }

  /** Creates the child `name` exclusively (never through an existing entry or symlink). */
  createFile(name: string, mode: number): Promise<FileHandle> {
    return open(this.at(name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, mode);
  }

  lstat(name: string) {
    return lstat(this.at(name));
  }

  readlink(name: string): Promise<string> {
    return readlink(this.at(name));
  }

  stat() {
    return this.handle.stat();
  }

  /** Gives the descriptor's handle to code that sets metadata on the directory itself. */
  get fileHandle(): FileHandle {
    return this.handle;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}

/** errno code of a failed fs call. */
export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
