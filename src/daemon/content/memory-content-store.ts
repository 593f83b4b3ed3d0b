/**
 * A content store in memory, for unit tests of what sits above it (images,
 * distribution, the builder): the same contract as FileContentStore,
 * checked by the same suite (conformance.ts), and nothing on disk.
 *
 *   const content = new MemoryContentStore();
 *   const { digest } = await content.put('{"config":1}');
 *   content.inProgress();                      // writes neither committed nor discarded
 *   const again = content.reopen();            // the same blobs, as after a daemon restart
 */
import type { Hash } from 'node:crypto';
import { createHash } from '../../lib/lazy-crypto.js';
import { Readable, Writable } from 'node:stream';
import { InvalidParameter, NotFound } from '../../errdefs/index.js';
import { isSha256Digest, type Digest } from '../../oci/digest.js';
import { checkExpected, committedDigest, ingestThrough, type WriterOptions, type BlobInfo, type ContentStore, type ContentWriter, type Expected, type WriteResult } from './content-store.js';

class MemoryContentWriter extends Writable implements ContentWriter {
  private readonly hash: Hash | undefined;
  private readonly chunks: Buffer[] = [];
  size = 0;

  constructor(private readonly publish: (data: Buffer, info: BlobInfo) => boolean, private readonly done: () => void, opts: WriterOptions = {}) {
    super({ highWaterMark: 1 << 20 });
    this.hash = opts.hashedAlongside ? undefined : createHash('sha256');
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash?.update(chunk);
    this.size += chunk.length;
    this.chunks.push(chunk);
    cb();
  }

  async commit(expected: Expected = {}): Promise<WriteResult> {
    try {
      const digest = committedDigest(this.hash, expected);
      checkExpected(expected, { digest, size: this.size });
      const created = this.publish(Buffer.concat(this.chunks), { digest, size: this.size });
      return { digest, size: this.size, created };
    } finally {
      this.done();
    }
  }

  async discard(): Promise<void> {
    this.destroy();
    this.done();
  }
}

function notFound(digest: Digest): NotFound {
  return new NotFound('content.blob_not_found', `content ${digest}: not found`);
}

export class MemoryContentStore implements ContentStore {
  private readonly writing = new Set<MemoryContentWriter>();

  constructor(private readonly blobs = new Map<Digest, Buffer>()) {}

  /** A new store over the same blobs, without the writes in progress (a restart). */
  reopen(): MemoryContentStore {
    return new MemoryContentStore(this.blobs);
  }

  /** How many writes are neither committed nor discarded. */
  inProgress(): number {
    return this.writing.size;
  }

  private check(digest: Digest): Digest {
    if (!isSha256Digest(digest)) throw new InvalidParameter('content.invalid_digest', `invalid digest "${digest}"`);
    return digest;
  }

  writer(opts?: WriterOptions): ContentWriter {
    const w: MemoryContentWriter = new MemoryContentWriter((data, info) => {
      // JS runs this at once: of writers racing on one blob, exactly one creates it
      if (this.blobs.has(info.digest)) return false;
      this.blobs.set(info.digest, data);
      return true;
    }, () => this.writing.delete(w), opts);
    this.writing.add(w);
    return w;
  }

  ingest(source: Readable | AsyncIterable<Buffer>, expected?: Expected): Promise<WriteResult> {
    return ingestThrough(this.writer(), source, expected);
  }

  async put(data: Buffer | string, expected?: Expected): Promise<WriteResult> {
    return this.ingest(Readable.from([Buffer.from(data)]), expected);
  }

  async has(digest: Digest): Promise<boolean> {
    return isSha256Digest(digest) && this.blobs.has(digest);
  }

  read(digest: Digest): Readable {
    const data = this.blobs.get(this.check(digest));
    if (data) return Readable.from([data], { objectMode: false });
    const failing = new Readable({ read() {} });
    process.nextTick(() => failing.destroy(notFound(digest)));
    return failing;
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    const data = this.blobs.get(this.check(digest));
    if (!data) throw notFound(digest);
    return data;
  }

  async info(digest: Digest): Promise<BlobInfo> {
    const data = this.blobs.get(this.check(digest));
    if (!data) throw notFound(digest);
    return { digest, size: data.length };
  }

  async delete(digest: Digest): Promise<void> {
    this.blobs.delete(this.check(digest));
  }

  async list(): Promise<BlobInfo[]> {
    return [...this.blobs].map(([digest, data]) => ({ digest, size: data.length }));
  }
}
