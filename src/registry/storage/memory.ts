/** The in-memory storage driver: for tests and throwaway registries. Same path rules as the others. */
import { Readable, Writable } from 'node:stream';
import type { FileInfo, StorageDriver } from './driver.js';
import { PathNotFound, pathParts } from './errors.js';

export class MemoryDriver implements StorageDriver {
  readonly name = 'memory';
  private readonly files = new Map<string, { data: Buffer; modTime: Date }>();

  private key(path: string): string {
    return pathParts(path).join('/');
  }

  async getContent(path: string): Promise<Buffer> {
    const f = this.files.get(this.key(path));
    if (!f) throw new PathNotFound(path);
    return f.data;
  }

  async putContent(path: string, data: Buffer | string): Promise<void> {
    this.files.set(this.key(path), { data: Buffer.from(data), modTime: new Date() });
  }

  async reader(path: string, offset = 0): Promise<Readable> {
    return Readable.from([(await this.getContent(path)).subarray(offset)]);
  }

  async writer(path: string, append: boolean): Promise<Writable> {
    const key = this.key(path);
    const chunks: Buffer[] = append && this.files.has(key) ? [this.files.get(key)!.data] : [];
    const files = this.files;
    return new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
      final(cb) {
        files.set(key, { data: Buffer.concat(chunks), modTime: new Date() });
        cb();
      },
    });
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const key = this.key(path);
    const f = this.files.get(key);
    if (f) return { path, size: f.data.length, isDir: false, modTime: f.modTime };
    const prefix = key === '' ? '' : `${key}/`;
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return { path, size: 0, isDir: true, modTime: new Date(0) };
    return undefined;
  }

  async list(path: string): Promise<string[]> {
    const key = this.key(path);
    const prefix = key === '' ? '' : `${key}/`;
    const out = new Set<string>();
    for (const k of this.files.keys()) if (k.startsWith(prefix)) out.add(k.slice(prefix.length).split('/')[0]!);
    return [...out].sort();
  }

  async move(src: string, dst: string): Promise<void> {
    const f = this.files.get(this.key(src));
    if (!f) throw new PathNotFound(src);
    this.files.set(this.key(dst), f);
    this.files.delete(this.key(src));
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    for (const k of [...this.files.keys()]) if (k === key || k.startsWith(`${key}/`)) this.files.delete(k);
  }
}
