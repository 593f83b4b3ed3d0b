/**
 * A small leveled logger writing one line per entry to stderr:
 *   2026-11-22T10:00:00.000Z info API listening host=unix:///run/berth.sock
 * Writes are asynchronous (process.stderr to a pipe/file), never blocking a request.
 */
import { isoString } from './utc-text.js';
import { redactSecrets } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(s: string): s is LogLevel {
  return s in RANK;
}

export class Logger {
  constructor(private readonly level: LogLevel = 'info', private readonly out: NodeJS.WritableStream = process.stderr) {}

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    let line = `${isoString()} ${level} ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        const s = typeof v === 'string' ? v : JSON.stringify(v);
        line += ` ${k}=${/[\s"]/.test(s) ? JSON.stringify(s) : s}`;
      }
    }
    this.out.write(redactSecrets(line) + '\n');
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }
}

/**
 * For a cleanup step whose failure is not the caller's error (an unmount, a
 * delete after an earlier failure): a debug line says what was left behind
 * and why, instead of a silent `.catch(() => {})`.
 *
 *   await unmountRootfs(paths).catch(cleanupFailed(log, 'unmount rootfs', { id }));
 */
export function cleanupFailed(log: Logger | undefined, what: string, fields?: Record<string, unknown>): (err: unknown) => void {
  return (err) => log?.debug(`cleanup: ${what} failed`, { ...fields, error: err instanceof Error ? err.message : String(err) });
}
