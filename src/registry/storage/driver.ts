/**
 * The storage driver interface (distribution's storagedriver is the model):
 * a flat namespace of `/`-separated paths holding byte strings. The
 * registry's layout (blobs, repositories, uploads) is built on these calls
 * only, so another backend (S3) plugs in behind the same interface.
 */
import type { Readable, Writable } from 'node:stream';

export interface FileInfo {
  path: string;
  size: number;
  isDir: boolean;
  modTime: Date;
}

export interface StorageDriver {
  readonly name: string;
  /** Small contents (links, tags, manifests): read whole. */
  getContent(path: string): Promise<Buffer>;
  /** Written whole and atomically: readers see the old or the new content. */
  putContent(path: string, data: Buffer | string): Promise<void>;
  /** A stream from `offset`. */
  reader(path: string, offset?: number): Promise<Readable>;
  /** A stream that writes (or appends to) `path`; `size()` is its length afterwards. */
  writer(path: string, append: boolean): Promise<Writable>;
  /** undefined when the path does not exist. */
  stat(path: string): Promise<FileInfo | undefined>;
  /** Direct children of a directory path ([] when absent). */
  list(path: string): Promise<string[]>;
  /** Renames, replacing any destination (atomic in this driver). */
  move(src: string, dst: string): Promise<void>;
  /** Deletes a path and everything below it. */
  delete(path: string): Promise<void>;
}
