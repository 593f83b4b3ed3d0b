/**
 * The json-file log driver: a writer per running container, and readers
 * with tail / since / until / follow over the same file.
 */
import { EventEmitter } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { Rotation } from './log-options.js';
import { nowNs, parseTimeNs, rfc3339Nano, type LogEntry, type LogStream } from './entry.js';
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
  private size: number;
  /** Entries that arrived while a rotation was under way, in order. */
  private held: string[] | undefined;
  private rotating: Promise<void> | undefined;
  /** One wait for the current stream's drain, shared by every writer behind it (one listener, not one per line). */
  private draining: { stream: WriteStream; done: Promise<void> } | undefined;
  /** Counts rotations, so a follower notices that its file moved. */
  generation = 0;

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
    this.generation++;
    this.size = size;
    this.out = this.openStream();
    const held = this.held ?? [];
    this.held = undefined;
    this.rotating = undefined;
    // a burst bigger than max-size rotates again: append holds what comes after that
    for (const entry of held) this.append(entry);
    this.emit('rotated');
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
    this.out.write(entry, () => this.emit('write'));
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
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

export interface ReadOptions {
  /** Keep only the last N entries (of both streams together). */
  tail?: number;
  sinceNs?: bigint;
  untilNs?: bigint;
  stdout?: boolean;
  stderr?: boolean;
}

/** Splits a byte stream into lines and parses each JSON entry. */
async function* entriesOf(source: AsyncIterable<Buffer>): AsyncGenerator<LogEntry> {
  let rest = '';
  for await (const chunk of source) {
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const l of lines) {
      if (!l) continue;
      try {
        yield JSON.parse(l) as LogEntry;
      } catch {
        // a torn last line after a crash: skip it
      }
    }
  }
}

function wanted(e: LogEntry, o: ReadOptions): boolean {
  if (e.stream === 'stdout' && o.stdout === false) return false;
  if (e.stream === 'stderr' && o.stderr === false) return false;
  if (o.sinceNs !== undefined || o.untilNs !== undefined) {
    const t = parseTimeNs(e.time);
    if (o.sinceNs !== undefined && t < o.sinceNs) return false;
    if (o.untilNs !== undefined && t > o.untilNs) return false;
  }
  return true;
}

/** Rotated files that exist, oldest first: `<path>.N` … `<path>.1`. */
export async function rotatedFiles(path: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 1; ; i++) {
    const p = `${path}.${i}`;
    if (!(await stat(p).then(() => true, () => false))) break;
    out.unshift(p);
  }
  return out;
}

/** Entries of a whole file (or from `start`), in order. */
function entriesFrom(path: string, start: number, end: number): AsyncGenerator<LogEntry> {
  return entriesOf(createReadStream(path, { start, end, highWaterMark: 1 << 16 }));
}

/**
 * The entries already written (rotated files first); sets `state` to where
 * the live file was read up to and which rotation it belonged to.
 */
export async function* readLogFile(path: string, o: ReadOptions, state: { offset: number; generation?: number } = { offset: 0 }): AsyncGenerator<LogEntry> {
  if (o.tail === 0) {
    state.offset = await stat(path).then((s) => s.size, () => 0);
    return;
  }
  const files: [string, number][] = [];
  for (const p of [...(await rotatedFiles(path)), path]) {
    const size = await stat(p).then((s) => s.size, () => 0);
    if (size > 0) files.push([p, size]);
    if (p === path) state.offset = size;
  }
  async function* all(): AsyncGenerator<LogEntry> {
    for (const [p, size] of files) for await (const e of entriesFrom(p, 0, size - 1)) if (wanted(e, o)) yield e;
  }
  if (o.tail === undefined || o.tail < 0) {
    yield* all();
    return;
  }
  const ring: LogEntry[] = [];
  for await (const e of all()) {
    ring.push(e);
    if (ring.length > o.tail) ring.shift();
  }
  yield* ring;
}

/**
 * New entries after `offset` as the writer adds them, until the writer
 * closes (the container stopped) or `signal` aborts.
 */
export async function* followLogFile(path: string, writer: JsonFileWriter, o: ReadOptions, offset: number, signal: AbortSignal, generation = writer.generation): AsyncGenerator<LogEntry> {
  let pos = offset;
  let gen = generation;
  for (;;) {
    const closed = writer.isClosed;
    if (writer.generation !== gen) {
      // the file we were reading was rotated to <path>.1: finish it, then start the new one
      if (writer.generation === gen + 1) {
        const size = await stat(`${path}.1`).then((s) => s.size, () => 0);
        if (size > pos) for await (const e of entriesFrom(`${path}.1`, pos, size - 1)) if (wanted(e, o)) yield e;
      }
      gen = writer.generation;
      pos = 0;
    }
    const size = (await stat(path).catch(() => ({ size: pos }))).size;
    if (size > pos) {
      const source = createReadStream(path, { start: pos, end: size - 1, highWaterMark: 1 << 16 });
      // only whole lines: a line still being written is read on the next round
      let consumed = 0;
      let rest = '';
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const text = rest + chunk.toString('utf8');
        const lines = text.split('\n');
        rest = lines.pop()!;
        for (const l of lines) {
          consumed += Buffer.byteLength(l) + 1;
          if (!l) continue;
          try {
            const e = JSON.parse(l) as LogEntry;
            if (o.untilNs !== undefined && parseTimeNs(e.time) > o.untilNs) return;
            if (wanted(e, o)) yield e;
          } catch {
            // torn line
          }
        }
      }
      pos += consumed;
      continue;
    }
    if (closed || signal.aborted) return;
    await nextChange(writer, signal);
  }
}

/** Resolves on the writer's next 'write', 'close' or 'rotated', or on abort; leaves no listener behind. */
export function nextChange(writer: JsonFileWriter, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      writer.off('write', done);
      writer.off('close', done);
      writer.off('rotated', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    writer.on('write', done);
    writer.on('close', done);
    writer.on('rotated', done);
    signal.addEventListener('abort', done);
  });
}
