import { PassThrough, type Readable } from 'node:stream';
import { firstEvent } from '../streams.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type EncodeOptions, type TarHeader } from './header.js';

/**
 * Writes a tar archive to a stream, honouring backpressure:
 *
 *   const tar = new TarWriter();
 *   pipeline(tar.stream, destination);
 *   await tar.add(headerDefaults({ name: 'etc/', type: 'dir' }));
 *   await tar.add(fileHeader, fs.createReadStream(src));
 *   await tar.finish();
 */
export class TarWriter {
  readonly stream = new PassThrough({ highWaterMark: 1 << 16 });

  constructor(private readonly encoding: EncodeOptions = {}) {}

  private async write(chunk: Buffer): Promise<void> {
    if (this.stream.destroyed) throw new Error('tar stream closed');
    if (!this.stream.write(chunk)) await drained(this.stream);
  }

  /** Writes pre-encoded bytes as they are (pass-through of entries read elsewhere). */
  async raw(chunk: Buffer): Promise<void> {
    await this.write(chunk);
  }

  /**
   * `encoding` overrides the writer's for this entry (Docker writes its
   * whiteouts without type bits). A stream body is destroyed once the entry
   * is written or has failed: one left unread (an empty file, a client gone
   * before the header went out) would hold its file descriptor forever.
   */
  async add(header: TarHeader, body?: Buffer | string | Readable | AsyncIterable<Buffer>, encoding?: EncodeOptions): Promise<void> {
    try {
      await this.addEntry(header, body, encoding);
    } finally {
      if (body && typeof (body as Readable).destroy === 'function') (body as Readable).destroy();
    }
  }

  private async addEntry(header: TarHeader, body: Buffer | string | Readable | AsyncIterable<Buffer> | undefined, encoding: EncodeOptions | undefined): Promise<void> {
    await this.write(encodeHeader(header, encoding ?? this.encoding));
    if (header.type !== 'file' || header.size === 0) return;
    let written = 0;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const b = Buffer.from(body);
      written = b.length;
      await this.write(b);
    } else if (body) {
      for await (const c of body as AsyncIterable<Buffer>) {
        written += c.length;
        if (written > header.size) throw new Error(`tar entry ${header.name}: body longer than its size`);
        await this.write(c);
      }
    }
    if (written !== header.size) throw new Error(`tar entry ${header.name}: body is ${written} bytes, header says ${header.size}`);
    await this.padTo(header.size);
  }

  async padTo(size: number): Promise<void> {
    const pad = padding(size);
    if (pad) await this.write(Buffer.alloc(pad));
  }

  async finish(): Promise<void> {
    await this.write(END_OF_ARCHIVE);
    this.stream.end();
  }

  /** Ends the stream with an error, so the consumer's pipeline fails too. */
  abort(err: Error): void {
    this.stream.destroy(err);
  }
}

/**
 * 'drain', or a rejection when the stream closes first: a reader that went
 * away (its pipeline destroys the stream) must end the writer, not leave it
 * waiting forever with its source files open.
 */
async function drained(stream: PassThrough): Promise<void> {
  const { event, arg } = await firstEvent(stream, ['drain', 'close', 'error']);
  if (event === 'error') throw arg;
  if (event === 'close') throw new Error('tar stream closed');
}
