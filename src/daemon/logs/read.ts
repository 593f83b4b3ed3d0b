/** `docker logs` over the json-file driver: history, then (with follow) live entries. */
import { followLogFile, readLogFile, type JsonFileWriter, type ReadOptions } from './json-file.js';
import type { LogEntry } from './entry.js';

export interface LogQuery extends ReadOptions {
  follow: boolean;
}

export async function* readLogs(path: string, writer: JsonFileWriter | undefined, q: LogQuery, signal: AbortSignal): AsyncGenerator<LogEntry> {
  // the rotation count is taken before reading, so a rotation during the read is seen by the follower
  const generation = writer?.generation ?? 0;
  const state = { offset: 0 };
  yield* readLogFile(path, q, state);
  if (!q.follow || !writer || writer.isClosed || signal.aborted) return;
  yield* followLogFile(path, writer, q, state.offset, signal, generation);
}
