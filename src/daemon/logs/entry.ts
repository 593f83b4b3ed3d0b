/**
 * One log line in Docker's json-file format:
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-22T08:20:56.495248329Z"}
 * Lines longer than 16 KiB are split; only the last piece ends in "\n".
 */
import { isoString } from '../../lib/utc-text.js';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  log: string;
  stream: LogStream;
  /** RFC 3339 with 9 fractional digits. */
  time: string;
  attrs?: Record<string, string>;
}

export const MAX_LINE = 16 * 1024;

// process.hrtime, not performance.now(): the `performance` global loads perf_hooks, idle memory (issue 18)
const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Wall-clock time in nanoseconds, monotonic within the process (readers order and resume by it). */
export function nowNs(): bigint {
  return originNs + process.hrtime.bigint();
}

export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return isoString(ms).slice(0, 19) + '.' + frac + 'Z';
}

/** Nanoseconds since the epoch of an RFC 3339 time with up to 9 fractional digits. */
export function parseTimeNs(t: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return 0n;
  const secs = BigInt(Math.floor(Date.parse(m[1]! + m[3]!) / 1000));
  const frac = BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
  return secs * 1_000_000_000n + frac;
}

/** Splits a stream's bytes into log lines, keeping an unterminated tail for the next chunk. */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialLen = 0;

  constructor(private readonly emit: (line: Buffer) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      this.take(chunk.subarray(start, nl + 1), true);
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start), false);
  }

  private take(piece: Buffer, complete: boolean): void {
    while (this.partialLen + piece.length > MAX_LINE) {
      const room = MAX_LINE - this.partialLen;
      this.partial.push(piece.subarray(0, room));
      this.flushPartial();
      piece = piece.subarray(room);
    }
    if (complete) {
      this.partial.push(piece);
      this.flushPartial();
    } else if (piece.length) {
      this.partial.push(piece);
      this.partialLen += piece.length;
    }
  }

  private flushPartial(): void {
    const line = this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial);
    this.partial = [];
    this.partialLen = 0;
    if (line.length) this.emit(line);
  }

  /** At end of stream: an unterminated last line is logged as it is. */
  end(): void {
    if (this.partialLen) this.flushPartial();
  }
}
