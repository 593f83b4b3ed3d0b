/**
 * What the runtime conformance suite (conformance.ts) is made of: programs
 * named by behaviour, the harness an implementation's test file provides,
 * and stream helpers the cases and test files share.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { RuntimeSpec, SpecProcess } from '../../oci/runtime-spec.js';
import type { ProcessIO, Runtime } from './runtime.js';

/** What a conformance case runs, by behaviour. */
export type Program =
  /** Writes `stdout` and `stderr` (if given), then exits with `code`. */
  | { kind: 'exit'; code: number; stdout?: string; stderr?: string }
  /** Copies stdin to stdout until EOF, then exits 0. */
  | { kind: 'cat' }
  /** Runs until killed; handles no signal (as PID 1 it ignores SIGTERM). */
  | { kind: 'sleep' }
  /** Writes "ready" once it handles `signal`, then waits; exits `code` on `signal`. */
  | { kind: 'trap'; signal: number; code: number }
  /** An executable that does not exist in the rootfs. */
  | { kind: 'missing' }
  /** Reads a line from stdin, then prints its terminal's size as `rows cols` and exits 0. */
  | { kind: 'tty-size' };

export interface RuntimeHarness {
  runtime: Runtime;
  /** The runtime spec of a container whose init runs `program`. */
  spec(program: Program): RuntimeSpec;
  /** The process of an exec that runs `program`. */
  process(program: Program): SpecProcess;
  /**
   * A new Runtime over the same state, as berthd has after a restart (the
   * old one is closed first). Without it the restore cases are skipped.
   */
  reopen?(): Promise<Runtime>;
  /** Ends what is left: tasks, shims, mounts, cgroups, files. */
  cleanup(): Promise<void>;
}

export function newTaskId(): string {
  return randomBytes(32).toString('hex');
}

/** Everything a stream delivers, and when it ended. */
export class Capture {
  text = '';
  readonly ended: Promise<string>;
  private waiters: { needle: string; resolve: () => void }[] = [];

  constructor(stream: Readable | undefined) {
    if (!stream) {
      this.ended = Promise.resolve('');
      return;
    }
    this.ended = new Promise((resolve) => {
      const done = () => resolve(this.text);
      stream.on('data', (chunk: Buffer) => {
        this.text += chunk.toString();
        this.waiters = this.waiters.filter((w) => (this.text.includes(w.needle) ? (w.resolve(), false) : true));
      });
      stream.once('end', done);
      stream.once('close', done);
      stream.on('error', () => {});
    });
  }

  /** Resolves once `needle` was seen. */
  until(needle: string): Promise<void> {
    if (this.text.includes(needle)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ needle, resolve }));
  }
}

export function closeIO(io: ProcessIO): void {
  io.stdin?.destroy();
  io.stdout.destroy();
  io.stderr?.destroy();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Resolves once `pid` runs its own program: `start` returns when runc has
 * released its init, which may still be runc's Go code for a moment, and
 * that code dies of a SIGTERM (exit 2) where the program would ignore it.
 * A pid with no /proc entry (a fake runtime's) counts as started.
 */
export async function programStarted(pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (!comm.startsWith('runc')) return;
    await sleep(10);
  }
}
