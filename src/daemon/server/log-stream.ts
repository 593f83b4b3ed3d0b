/**
 * Log entries onto the wire, as moby's httputils.WriteLogStream: `details`
 * puts the attributes (`k=v,k=v `) before the text, `timestamps` the entry's
 * RFC 3339 time before that; without a tty each entry is one stdcopy frame.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { frame, StdStream } from '../../api/stdcopy.js';

/** One log entry as the logs backend yields it. */
export interface LogLine {
  log: string;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with 9 fractional digits. */
  time: string;
  attrs?: Record<string, string>;
}

export interface LogFormat {
  tty: boolean;
  timestamps: boolean;
  details: boolean;
}

/** Writes every entry with backpressure, stops when `signal` aborts (the client left), and ends `out`. */
export async function writeLogStream(out: Writable, entries: AsyncIterable<LogLine>, f: LogFormat, signal: AbortSignal): Promise<void> {
  for await (const e of entries) {
    if (signal.aborted) break;
    let text = e.log;
    if (f.details) text = `${Object.entries(e.attrs ?? {}).map(([k, v]) => `${k}=${v}`).join(',')} ${text}`;
    if (f.timestamps) text = `${e.time} ${text}`;
    const payload = Buffer.from(text);
    const ok = out.write(f.tty ? payload : frame(e.stream === 'stdout' ? StdStream.Stdout : StdStream.Stderr, payload));
    if (!ok) await once(out, 'drain', { signal }).catch(() => {});
  }
  out.end();
}

/** Writes already encoded chunks with backpressure, stops when `signal` aborts, and ends `out`. */
export async function writeChunks(out: Writable, chunks: AsyncIterable<Buffer>, signal: AbortSignal): Promise<void> {
  for await (const c of chunks) {
    if (signal.aborted) break;
    if (!out.write(c)) await once(out, 'drain', { signal }).catch(() => {});
  }
  out.end();
}
