/**
 * The json-file log driver's writer, one per running container (readers:
 * read.ts for entries, wire-reader.ts for `docker logs`' bytes).
 */
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { Rotation } from './log-options.js';
import { nowNs, rfc3339Nano, type LogStream } from './entry.js';
import { whenWritable } from '../../lib/streams.js';

/** Turns one line of output into the text appended to the file. */
export type LineEncoder = (stream: LogStream, line: Buffer, timeNs: bigint) => string;

const jsonFileLine: LineEncoder = (stream, line, timeNs) =>
  `{"log":${JSON.stringify(line.toString('utf8'))},"stream":"${stream}","time":"${rfc3339Nano(timeNs)}"}\n`;

/**
 * Appends entries; emits 'write' after data reached the file and 'close'
 * when the container's output ended. With `maxSize` it rotates as Docker
 * does: the live file becomes `<path>.1`, older ones shift up, and only
 * `maxFiles` files (the live one included) are kept.
 */
export class JsonFileWriter extends EventEmitter {
  private out: WriteStream;
  private closed = false;
  private finished = false;
  private size: number;
  /** Entries that arrived while a rotation was under way, in order. */
  private held: string[] | undefined;
  private rotating: Promise<void> | undefined;
  /** One wait for the current stream's drain, shared by every writer behind it (one listener, not one per line). */
  private draining: { stream: WriteStream; done: Promise<void> } | undefined;

  private constructor(readonly path: string, private readonly rotation: Rotation, size: number, private readonly encode: LineEncoder) {
    super();
    this.size = size;
    this.out = this.openStream();
  }

  /** `encode`: the json-file format unless told (the CRI endpoint's containers write the CRI log format). */
  static async open(path: string, rotation: Rotation = { maxFiles: 1 }, encode: LineEncoder = jsonFileLine): Promise<JsonFileWriter> {
    const size = await stat(path).then((s) => s.size, () => 0);
    return new JsonFileWriter(path, rotation, size, encode);
  }

  private openStream(): WriteStream {
    const out = createWriteStream(this.path, { flags: 'a', highWaterMark: 1 << 16 });
    out.on('error', (err) => this.emit('error', err));
    return out;
  }

  /** Returns false when the caller should wait for `drain()` before writing more. */
  write(stream: LogStream, line: Buffer): boolean {
    this.append(this.encode(stream, line, nowNs()));
    return !this.held && !this.out.writableNeedDrain;
  }

  private async rotate(): Promise<void> {
    try {
      const old = this.out;
      await new Promise<void>((r) => old.end(() => r()));
      const keep = this.rotation.maxFiles;
      if (keep > 1) {
        await rm(`${this.path}.${keep - 1}`, { force: true });
        for (let i = keep - 2; i >= 1; i--) await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => {});
        await rename(this.path, `${this.path}.1`);
      } else {
        await rm(this.path, { force: true });
      }
    } catch (err) {
      this.emit('error', err);
    }
    this.resumeOn(0);
  }

  /** A new file is open at `path` with `size` bytes: what was held meanwhile goes into it, and readers are told. */
  private resumeOn(size: number): void {
    this.size = size;
    this.out = this.openStream();
    const held = this.held ?? [];
    this.held = undefined;
    this.rotating = undefined;
    // a burst bigger than max-size rotates again: append holds what comes after that
    for (const entry of held) this.append(entry);
    this.changed('rotated');
  }

  /**
   * Closes the file and opens its path anew (created if it was renamed
   * away): the kubelet rotates a CRI log itself, then asks for this.
   * Entries that come meanwhile are held, then written to the new file.
   */
  async reopen(): Promise<void> {
    while (this.rotating) await this.rotating;
    if (this.closed) return;
    this.held = [];
    this.rotating = (async () => {
      const old = this.out;
      await new Promise<void>((r) => old.end(() => r()));
      this.resumeOn(await stat(this.path).then((st) => st.size, () => 0));
    })();
    await this.rotating;
  }

  /** Writes an entry, or holds it while a rotation runs; starts a rotation when the entry would not fit. */
  private append(entry: string): void {
    if (this.held) {
      this.held.push(entry);
      return;
    }
    const bytes = Buffer.byteLength(entry);
    if (this.rotation.maxSize !== undefined && this.size > 0 && this.size + bytes > this.rotation.maxSize) {
      this.held = [entry];
      this.rotating = this.rotate();
      return;
    }
    this.size += bytes;
    this.out.write(entry, () => this.changed('write'));
  }

  async drain(): Promise<void> {
    while (this.rotating) await this.rotating;
    const out = this.out;
    if (!out.writableNeedDrain) return;
    if (this.draining?.stream !== out) {
      // whenWritable settles on 'close' too: a stream ended by a rotation never emits 'drain'
      const done = whenWritable(out).then(() => {
        if (this.draining?.stream === out) this.draining = undefined;
      });
      this.draining = { stream: out, done };
    }
    await this.draining.done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.rotating) await this.rotating;
    await new Promise<void>((r) => this.out.end(() => r()));
    this.finished = true;
    this.changed('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Everything was written and the file closed: a follower that has read to the end is done. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Counts the 'write', 'rotated' and 'close' events, so a reader can tell one came while it was busy. */
  changes = 0;

  private changed(event: 'write' | 'rotated' | 'close'): void {
    this.changes++;
    this.emit(event);
  }
}
