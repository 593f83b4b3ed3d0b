/**
 * One process of the fake runtime (fake.ts), as the test sees it: what it
 * reads, what it writes, the signals it got, and its exit — all driven by
 * the test or by a small program.
 *
 *   const p = fake.process(id);        // the init; fake.process(id, execId) for an exec
 *   p.write('out'); p.writeErr('err');
 *   await p.stdinText();               // everything written to stdin, once EOF arrived
 *   p.onSignal(15, () => p.exit(0));   // a handler, as `trap` installs one
 *   p.exit(3);                         // wait() resolves with 3
 *
 * Signals follow the kernel: SIGKILL always ends a process (128+9); a
 * signal with no handler ends it with 128+n — except for the container's
 * init, which as PID 1 ignores every signal it does not handle; signals
 * whose default is to be ignored (SIGCHLD, SIGCONT, SIGURG, SIGWINCH) do
 * nothing.
 */
import { PassThrough } from 'node:stream';
import type { ExitStatus } from './runtime.js';

export type FakeProcessState = 'created' | 'running' | 'stopped';

/** What a program does once started; it drives its process through the control. */
export type FakeProgram = (p: FakeProcess) => void;

const SIGKILL = 9;
const IGNORED_BY_DEFAULT = new Set([17, 18, 23, 28]); // SIGCHLD, SIGCONT, SIGURG, SIGWINCH

export class FakeProcess {
  state: FakeProcessState = 'created';
  pid = 0;
  /** Every signal delivered, in order (a paused process gets them at resume). */
  readonly signals: number[] = [];
  /** The last pty size asked for. */
  size: { width: number; height: number } | undefined;
  exitStatus: ExitStatus | undefined;
  /** What the process reads; ends when the daemon closed stdin (closeStdin). */
  readonly stdin = new PassThrough();
  /** True once EOF was delivered to stdin. */
  stdinClosed = false;
  private readonly stdinBytes: Buffer[] = [];
  private stdinEof!: () => void;
  private readonly stdinEnded = new Promise<void>((r) => (this.stdinEof = r));
  private readonly handlers = new Map<number, () => void>();
  private readonly exitWaiters: ((s: ExitStatus) => void)[] = [];
  private readonly onExit: (() => void)[] = [];
  /** Output that found no reader (the daemon was away); handed to the next one. */
  private pending: { stream: 'stdout' | 'stderr'; data: Buffer }[] = [];
  private out: { stdout: PassThrough; stderr?: PassThrough } | undefined;

  constructor(
    readonly id: string,
    /** '' for the container's init. */
    readonly execId: string,
    readonly args: string[],
    readonly terminal: boolean,
    readonly hasStdin: boolean,
  ) {
    // without stdin a process reads /dev/null: EOF at once
    if (!hasStdin) this.closeStdin();
  }

  get isInit(): boolean {
    return this.execId === '';
  }

  /** Writes to stdout. */
  write(data: string | Buffer): void {
    this.emit('stdout', Buffer.from(data));
  }

  /** Writes to stderr (to stdout with a terminal, as a pty merges them). */
  writeErr(data: string | Buffer): void {
    this.emit(this.terminal ? 'stdout' : 'stderr', Buffer.from(data));
  }

  /** Everything stdin delivered, once it reached EOF. */
  async stdinText(): Promise<string> {
    await this.stdinEnded;
    return Buffer.concat(this.stdinBytes).toString();
  }

  /** Installs a handler for `signal`: the process no longer dies of it. */
  onSignal(signal: number, handler: () => void): void {
    this.handlers.set(signal, handler);
  }

  /** Ends the process with `code`; later calls are ignored, as a process exits once. */
  exit(code: number): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    const status = { exitCode: code, exitedAt: new Date() };
    this.exitStatus = status;
    this.closeStdin();
    this.stdin.resume(); // what nobody read is dropped with the process
    if (this.out) {
      this.out.stdout.end();
      this.out.stderr?.end();
    }
    for (const fn of this.onExit.splice(0)) fn();
    // output ends before wait answers, as the shim's FIFOs close before its Wait reply
    setImmediate(() => {
      for (const w of this.exitWaiters.splice(0)) w(status);
    });
  }

  // ---------------------------------------------------------------- for the fake runtime

  /** Resolves with the exit status, now or at the exit. */
  exited(): Promise<ExitStatus> {
    if (this.exitStatus) return Promise.resolve(this.exitStatus);
    return new Promise((r) => this.exitWaiters.push(r));
  }

  whenExited(fn: () => void): void {
    if (this.state === 'stopped') fn();
    else this.onExit.push(fn);
  }

  /** Gives the process new readers for its output (a new handle, as after a daemon restart). */
  attachOutput(): { stdout: PassThrough; stderr?: PassThrough } {
    const out = { stdout: new PassThrough(), ...(this.terminal ? {} : { stderr: new PassThrough() }) };
    this.out = out;
    for (const p of this.pending.splice(0)) this.emit(p.stream, p.data);
    if (this.state === 'stopped') {
      out.stdout.end();
      out.stderr?.end();
    }
    return out;
  }

  feedStdin(data: Buffer): void {
    if (this.stdinClosed) return;
    this.stdinBytes.push(data);
    this.stdin.write(data);
  }

  closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.stdin.end();
    this.stdinEof();
  }

  deliver(signal: number): void {
    if (this.state !== 'running') return;
    this.signals.push(signal);
    const handler = this.handlers.get(signal);
    if (signal === SIGKILL) this.exit(128 + SIGKILL);
    else if (handler) handler();
    else if (!this.isInit && !IGNORED_BY_DEFAULT.has(signal)) this.exit(128 + signal);
  }

  private emit(stream: 'stdout' | 'stderr', data: Buffer): void {
    if (this.state === 'stopped') return;
    const target = this.out?.[stream];
    if (target && !target.destroyed) target.write(data);
    else this.pending.push({ stream, data });
  }
}

// ---------------------------------------------------------------- programs

/** Stands for an executable that is not in the rootfs: starting it fails as runc's does. */
export const notFound: FakeProgram = () => {
  throw new Error('notFound is a marker, never run');
};

/** busybox-like programs every fake runtime knows, by argv[0]. */
export const BUILTIN_PROGRAMS: Record<string, FakeProgram> = {
  true: (p) => p.exit(0),
  false: (p) => p.exit(1),
  echo: (p) => {
    p.write(`${p.args.slice(1).join(' ')}\n`);
    p.exit(0);
  },
  cat: (p) => {
    p.stdin.on('data', (b: Buffer) => p.write(b));
    p.stdin.once('end', () => setImmediate(() => p.exit(0)));
  },
  sleep: (p) => {
    const timer = setTimeout(() => p.exit(0), Number(p.args[1] ?? 0) * 1000);
    timer.unref();
    p.whenExited(() => clearTimeout(timer));
  },
};
