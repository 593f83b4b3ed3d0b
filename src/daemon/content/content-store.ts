/**
 * Content-addressable blob store: compressed layers, manifests and configs,
 * by sha256 digest. A blob reaches its final path only by rename after its
 * digest (and size, when known) were verified, so a file under blobs/ always
 * matches its name.
 *
 *   content/
 *     blobs/sha256/<hex>    verified blobs
 *     ingest/<random>       writes in progress (swept at start-up)
 *     diffids/<hex>.json    which blobs hold a layer (layer-blobs.ts)
 *
 * Worked example:
 *
 *   const store = new FileContentStore(join(dataRoot, 'content'));
 *   await store.init();                                   // sweeps ingest/
 *   const { digest, size, created } = await store.ingest(stream, { digest: expected });
 *   store.read(digest).pipe(res);                         // stream it back out
 *   const w = store.writer();                             // or write by hand, hashing as it goes
 *   w.write(chunk); w.end(); await finished(w); const info = await w.commit();
 *
 * Nothing here knows what a blob means: images and layers keep their own
 * references, and the image GC (images/gc.ts) deletes blobs nobody holds.
 */
import type { Hash } from 'node:crypto';
import { createHash, randomBytes } from '../../lib/lazy-crypto.js';
import { ReadStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { InvalidParameter, NotFound } from '../../errdefs/index.js';
import { hexOf, isSha256Digest, type Digest } from '../../oci/digest.js';

export interface Expected {
  digest?: Digest;
  size?: number;
}

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What a write did: `created` is false when the store already had the blob. */
export interface WriteResult extends BlobInfo {
  created: boolean;
}

/** Read side, for consumers that only read (a `Provider` in containerd terms). */
export interface BlobReader {
  has(digest: Digest): Promise<boolean>;
  read(digest: Digest): Readable;
  readBytes(digest: Digest): Promise<Buffer>;
  info(digest: Digest): Promise<BlobInfo>;
}

/**
 * `hashedAlongside`: the caller hashes the same bytes on a tee (a layer's
 * diffID, which for an uncompressed layer is its blob digest), so the writer
 * does not hash them a second time; `commit` must then be given the digest.
 */
export interface WriterOptions {
  hashedAlongside?: boolean;
}

export interface ContentStore extends BlobReader {
  /** A writable that hashes what it is given; `commit` verifies and publishes it. */
  writer(opts?: WriterOptions): ContentWriter;
  /** Streams a whole source into the store. */
  ingest(source: Readable | AsyncIterable<Buffer>, expected?: Expected): Promise<WriteResult>;
  put(data: Buffer | string, expected?: Expected): Promise<WriteResult>;
  delete(digest: Digest): Promise<void>;
  list(): Promise<BlobInfo[]>;
}

export class DigestMismatchError extends InvalidParameter {}

/** Streams a source through a writer and commits it; a failed stream leaves nothing behind. */
export async function ingestThrough(w: ContentWriter, source: Readable | AsyncIterable<Buffer>, expected?: Expected): Promise<WriteResult> {
  try {
    await pipeline(source, w);
  } catch (err) {
    await w.discard();
    throw err;
  }
  return w.commit(expected);
}

/** A write in progress: hashes what it is given; after it finished, `commit` verifies and publishes, `discard` drops it. */
export interface ContentWriter extends Writable {
  readonly size: number;
  /** Call after the stream finished: checks `expected` and moves the blob into place. */
  commit(expected?: Expected): Promise<WriteResult>;
  /** Drops a write that will not be committed. */
  discard(): Promise<void>;
}

/** The same checks for every store: size first, then digest, with the stable codes callers and the API rely on. */
export function checkExpected(expected: Expected, got: BlobInfo): void {
  if (expected.size !== undefined && expected.size !== got.size) {
    throw new DigestMismatchError('content.size_mismatch', `unexpected size ${got.size} for content, expected ${expected.size}`);
  }
  if (expected.digest !== undefined && expected.digest !== got.digest) {
    throw new DigestMismatchError('content.digest_mismatch', `digest mismatch: expected ${expected.digest}, got ${got.digest}`);
  }
}

/** The digest a commit publishes under: the writer's own hash, or (hashed alongside) the one it was given. */
export function committedDigest(hash: Hash | undefined, expected: Expected): Digest {
  if (hash) return `sha256:${hash.digest('hex')}`;
  if (!expected.digest) throw new InvalidParameter('content.digest_required', 'a blob hashed alongside its writer needs its digest to be committed');
  return expected.digest;
}

/**
 * Bytes after which a writer asks the disk to start writing what it has:
 * the commit's fsync then waits for the tail only, not for a whole large
 * blob whose writeback could have run while it was being made.
 */
const EARLY_SYNC_BYTES = 8 << 20;

export class FileContentWriter extends Writable implements ContentWriter {
  private readonly hash: Hash | undefined;
  private fh: FileHandle | undefined;
  size = 0;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  /** Linux reports a failed writeback to one fsync only: an early one's failure is kept for _final. */
  private syncError: Error | undefined;

  constructor(private readonly tmpPath: string, private readonly publish: (tmp: string, info: BlobInfo) => Promise<boolean>, opts: WriterOptions = {}) {
    super({ highWaterMark: 1 << 20 });
    this.hash = opts.hashedAlongside ? undefined : createHash('sha256');
  }

  override _construct(cb: (err?: Error | null) => void): void {
    open(this.tmpPath, 'wx', 0o644).then((fh) => {
      this.fh = fh;
      cb();
    }, cb);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash?.update(chunk);
    this.size += chunk.length;
    this.fh!.write(chunk).then(() => {
      this.written(chunk.length);
      cb();
    }, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    let n = 0;
    for (const b of bufs) {
      this.hash?.update(b);
      n += b.length;
    }
    this.size += n;
    this.fh!.writev(bufs).then(() => {
      this.written(n);
      cb();
    }, cb);
  }

  /** Starts the writeback of what was written (not awaited: the writes go on beside it), one at a time. */
  private written(n: number): void {
    this.unsynced += n;
    if (this.syncing || this.unsynced < EARLY_SYNC_BYTES) return;
    this.unsynced = 0;
    this.syncing = this.fh!.datasync().catch((err: Error) => { this.syncError ??= err; }).finally(() => (this.syncing = undefined));
  }

  override _final(cb: (err?: Error | null) => void): void {
    Promise.resolve(this.syncing).then(() => this.fh!.sync()).then(() => cb(this.syncError), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const close = this.fh ? this.fh.close() : Promise.resolve();
    this.fh = undefined;
    void close.catch(() => {}).then(() => cb(err));
  }

  /** Call after the stream finished: checks `expected` and moves the blob into place. */
  async commit(expected: Expected = {}): Promise<WriteResult> {
    try {
      const digest = committedDigest(this.hash, expected);
      checkExpected(expected, { digest, size: this.size });
      const created = await this.publish(this.tmpPath, { digest, size: this.size });
      return { digest, size: this.size, created };
    } catch (err) {
      await rm(this.tmpPath, { force: true });
      throw err;
    }
  }

  /** Drops a write that will not be committed. */
  async discard(): Promise<void> {
    // the file is opened in _construct: removing it before the stream has closed
    // can run before the open and leave the file behind
    if (!this.closed) {
      const closed = new Promise((resolve) => this.once('close', resolve));
      this.destroy();
      await closed;
    }
    await rm(this.tmpPath, { force: true });
  }
}

export class FileContentStore implements ContentStore {
  private readonly blobs: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.blobs = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.blobs, { recursive: true });
    await rm(this.ingestDir, { recursive: true, force: true });
    await mkdir(this.ingestDir, { recursive: true });
  }

  private path(digest: Digest): string {
    if (!isSha256Digest(digest)) throw new InvalidParameter('content.invalid_digest', `invalid digest "${digest}"`);
    return join(this.blobs, hexOf(digest));
  }

  writer(opts?: WriterOptions): ContentWriter {
    return new FileContentWriter(join(this.ingestDir, randomBytes(12).toString('hex')), async (tmp, info) => {
      // by link, not rename: it fails when the blob exists, so of writers racing
      // on one blob exactly one learns it created it (and may delete it on rollback)
      let created = true;
      try {
        await link(tmp, this.path(info.digest));
      } catch (err) {
        // an existing blob with this digest has the same bytes: keep it
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        created = false;
      }
      await rm(tmp, { force: true });
      return created;
    }, opts);
  }

  ingest(source: Readable | AsyncIterable<Buffer>, expected?: Expected): Promise<WriteResult> {
    return ingestThrough(this.writer(), source, expected);
  }

  async put(data: Buffer | string, expected?: Expected): Promise<WriteResult> {
    const w = this.writer();
    try {
      await new Promise<void>((resolve, reject) => w.end(data, () => resolve()).once('error', reject));
    } catch (err) {
      await w.discard();
      throw err;
    }
    return w.commit(expected);
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      await stat(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  read(digest: Digest): Readable {
    return new BlobReadStream(this.path(digest), digest);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound('content.blob_not_found', `content ${digest}: not found`);
      throw err;
    }
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      return { digest, size: (await stat(this.path(digest))).size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound('content.blob_not_found', `content ${digest}: not found`);
      throw err;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    for (const hex of await readdir(this.blobs)) {
      const digest: Digest = `sha256:${hex}`;
      if (!isSha256Digest(digest)) continue;
      out.push(await this.info(digest));
    }
    return out;
  }
}

// @types/node leaves out fs.ReadStream's constructor (path, options)
const FileReadStream = ReadStream as unknown as new (path: string, opts: { highWaterMark: number }) => ReadStream;

/** A blob's bytes; a blob that is not there fails the stream with NotFound, as `info` and `readBytes` do. */
class BlobReadStream extends FileReadStream {
  constructor(path: string, private readonly digest: Digest) {
    super(path, { highWaterMark: 1 << 20 });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    super._destroy(err, (e) => cb((e as NodeJS.ErrnoException | null | undefined)?.code === 'ENOENT'
      ? new NotFound('content.blob_not_found', `content ${this.digest}: not found`)
      : e));
  }
}
