/** A json-file log as entries: the history (tail / since / until / streams), then with follow the live entries. */
import type { JsonFileWriter } from './json-file.js';
import { parseTimeNs, type LogEntry } from './entry.js';
import { closeFiles, fileLines, followLines, logFiles, ReadBuffer, type LineChunk, type LogFile } from './live-lines.js';

export interface ReadOptions {
  /** Keep only the last N entries (of both streams together). */
  tail?: number;
  sinceNs?: bigint;
  untilNs?: bigint;
  stdout?: boolean;
  stderr?: boolean;
}

export interface LogQuery extends ReadOptions {
  follow: boolean;
}

/** With follow, entries until the writer has closed (the container stopped) or `signal` aborts. */
export async function* readLogs(path: string, writer: JsonFileWriter | undefined, q: LogQuery, signal: AbortSignal): AsyncGenerator<LogEntry> {
  const follow = q.follow && writer !== undefined && !writer.isFinished && !signal.aborted;
  const files = await logFiles(path);
  try {
    const rb = new ReadBuffer();
    if (q.tail !== 0) yield* history(files, q, rb);
    if (!writer || !follow) return;
    const last = files.at(-1);
    for await (const chunk of followLines(path, writer, files, last?.path === path ? last.size : 0, rb, signal)) {
      for (const e of parsed(chunk)) {
        if (q.untilNs !== undefined && parseTimeNs(e.time) > q.untilNs) return;
        if (wanted(e, q)) yield e;
      }
    }
  } finally {
    await closeFiles(files);
  }
}

async function* history(files: LogFile[], o: ReadOptions, rb: ReadBuffer): AsyncGenerator<LogEntry> {
  async function* all(): AsyncGenerator<LogEntry> {
    for (const f of files) for await (const chunk of fileLines(f, 0, f.size, rb)) for (const e of parsed(chunk)) if (wanted(e, o)) yield e;
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

/** The entries of a chunk of whole lines; a torn line (a crash mid-write) is skipped. */
function* parsed([buf, end]: LineChunk): Generator<LogEntry> {
  for (const l of buf.toString('utf8', 0, end).split('\n')) {
    if (!l) continue;
    try {
      yield JSON.parse(l) as LogEntry;
    } catch {
      // torn
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
