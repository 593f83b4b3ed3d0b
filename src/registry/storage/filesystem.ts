/**
 * The filesystem storage driver, under one root directory. Paths are
 * checked to be relative and free of `..`, so nothing outside the root can
 * be named, whatever a request contains.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import type { FileInfo, StorageDriver } from './driver.js';
import { orNotFound, pathParts } from './errors.js';

export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';

  constructor(private readonly root: string) {}

  private full(path: string): string {
    return join(this.root, ...pathParts(path));
  }

  async getContent(path: string): Promise<Buffer> {
    const full = this.full(path);
    return orNotFound(path, missing, () => readFile(full));
  }

  async putContent(path: string, data: Buffer | string): Promise<void> {
    const full = this.full(path);
    await mkdir(dirname(full), { recursive: true });
    await writeFileAtomic(full, data);
  }

  async reader(path: string, offset = 0): Promise<Readable> {
    const full = this.full(path);
    await orNotFound(path, missing, () => stat(full)); // a missing file fails here, not on the first read
    return createReadStream(full, { start: offset, highWaterMark: 1 << 20 });
  }

  async writer(path: string, append: boolean): Promise<Writable> {
    const full = this.full(path);
    await mkdir(dirname(full), { recursive: true });
    return createWriteStream(full, { flags: append ? 'a' : 'w', highWaterMark: 1 << 20 });
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const full = this.full(path);
    try {
      const st = await stat(full);
      return { path, size: st.size, isDir: st.isDirectory(), modTime: st.mtime };
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  }

  async list(path: string): Promise<string[]> {
    const full = this.full(path);
    try {
      return (await readdir(full)).sort();
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
  }

  async move(src: string, dst: string): Promise<void> {
    const from = this.full(src);
    const to = this.full(dst);
    await mkdir(dirname(to), { recursive: true });
    await orNotFound(src, missing, () => rename(from, to));
  }

  async delete(path: string): Promise<void> {
    await rm(this.full(path), { recursive: true, force: true });
  }
}

/** ENOENT, or ENOTDIR when a parent on the way is a file: the path is not there. */
function missing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
