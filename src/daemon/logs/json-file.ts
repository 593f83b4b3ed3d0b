/**
 * The json-file log driver: a writer per running container, and readers
 * with tail / since / until / follow over the same file.
 */
import { EventEmitter, once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { nowNs, parseTimeNs, rfc3339Nano, type LogEntry, type LogStream } from './entry.js';

/** Appends entries; emits 'write' after data reached the file and 'close' when the container's output ended. */
export class JsonFileWriter extends EventEmitter {
  private readonly out: WriteStream;
  private closed = false;

  constructor(readonly path: string) {
    super();
    this.out = createWriteStream(path, { flags: 'a', highWaterMark: 1 << 16 });
    this.out.on('error', (err) => this.emit('error', err));
  }

  /** Returns false when the caller should wait for 'drain' before writing more. */
  write(stream: LogStream, line: Buffer): boolean {
    const entry = `{"log":${JSON.stringify(line.toString('utf8'))},"stream":"${stream}","time":"${rfc3339Nano(nowNs())}"}\n`;
    return this.out.write(entry, () => this.emit('write'));
  }

  async drain(): Promise<void> {
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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

/** The entries already in the file; returns the byte offset it read up to. */
export async function* readLogFile(path: string, o: ReadOptions, state: { offset: number } = { offset: 0 }): AsyncGenerator<LogEntry> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return;
  }
  if (size === 0) return;
  const source = createReadStream(path, { start: 0, end: size - 1, highWaterMark: 1 << 16 });
  state.offset = size;
  if (o.tail === undefined || o.tail < 0) {
    for await (const e of entriesOf(source)) if (wanted(e, o)) yield e;
    return;
  }
  if (o.tail === 0) {
    source.destroy();
    return;
  }
  const ring: LogEntry[] = [];
  for await (const e of entriesOf(source)) {
    if (!wanted(e, o)) continue;
    ring.push(e);
    if (ring.length > o.tail) ring.shift();
  }
  yield* ring;
}

/**
 * New entries after `offset` as the writer adds them, until the writer
 * closes (the container stopped) or `signal` aborts.
 */
export async function* followLogFile(path: string, writer: JsonFileWriter, o: ReadOptions, offset: number, signal: AbortSignal): AsyncGenerator<LogEntry> {
  let pos = offset;
  for (;;) {
    const closed = writer.isClosed;
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

/** Resolves on the writer's next 'write' or 'close', or on abort; leaves no listener behind. */
function nextChange(writer: JsonFileWriter, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      writer.off('write', done);
      writer.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    writer.on('write', done);
    writer.on('close', done);
    signal.addEventListener('abort', done);
  });
}
