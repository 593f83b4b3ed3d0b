import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
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
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Writes pre-encoded bytes as they are (pass-through of entries read elsewhere). */
  async raw(chunk: Buffer): Promise<void> {
    await this.write(chunk);
  }

  /** `encoding` overrides the writer's for this entry (Docker writes its whiteouts without type bits). */
  async add(header: TarHeader, body?: Buffer | string | Readable | AsyncIterable<Buffer>, encoding?: EncodeOptions): Promise<void> {
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
