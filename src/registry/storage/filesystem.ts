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

export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';

  constructor(private readonly root: string) {}

  private full(path: string): string {
    const parts = path.split('/').filter(Boolean);
    if (parts.some((p) => p === '..' || p === '.' || p.includes('\0'))) throw new Error(`invalid storage path ${JSON.stringify(path)}`);
    return join(this.root, ...parts);
  }

  async getContent(path: string): Promise<Buffer> {
    return readFile(this.full(path));
  }

  async putContent(path: string, data: Buffer | string): Promise<void> {
    const full = this.full(path);
    await mkdir(dirname(full), { recursive: true });
    await writeFileAtomic(full, data);
  }

  async reader(path: string, offset = 0): Promise<Readable> {
    const full = this.full(path);
    await stat(full); // a missing file fails here, not on the first read
    return createReadStream(full, { start: offset, highWaterMark: 1 << 20 });
  }

  async writer(path: string, append: boolean): Promise<Writable> {
    const full = this.full(path);
    await mkdir(dirname(full), { recursive: true });
    return createWriteStream(full, { flags: append ? 'a' : 'w', highWaterMark: 1 << 20 });
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    try {
      const st = await stat(this.full(path));
      return { path, size: st.size, isDir: st.isDirectory(), modTime: st.mtime };
    } catch {
      return undefined;
    }
  }

  async list(path: string): Promise<string[]> {
    try {
      return (await readdir(this.full(path))).sort();
    } catch {
      return [];
    }
  }

  async move(src: string, dst: string): Promise<void> {
    const to = this.full(dst);
    await mkdir(dirname(to), { recursive: true });
    await rename(this.full(src), to);
  }

  async delete(path: string): Promise<void> {
    await rm(this.full(path), { recursive: true, force: true });
  }
}
