/**
 * A connection that is a program's stdin and stdout: how the client reaches a
 * daemon on an ssh:// host (`ssh ... berth system dial-stdio`), like docker's
 * commandconn. It stands in for a net.Socket inside node's HTTP client, so it
 * has the socket methods the client and its Agent call.
 *
 * Half-close works as on a socket: end() closes the program's stdin, and the
 * read side stays open until the program's stdout ends. When the program
 * ends first (the daemon closed an idle keep-alive connection), the
 * connection closes as a socket does, so the Agent drops it from its pool.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import { SystemError } from '../errdefs/index.js';

const MAX_STDERR = 16 << 10;

export class CommandConnError extends SystemError {}

export class CommandConn extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly command: string, readonly args: string[], readonly hint = '') {
    super({ allowHalfOpen: false });
    // child_process is loaded here, not at start: the CLI needs it only for ssh:// hosts
    this.child = process.getBuiltinModule('node:child_process').spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const { stdin, stdout, stderr } = this.child;
    this.exit = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
    this.child.once('error', (err) => this.destroy(new CommandConnError('client.command_failed', `error during connect: ${command}: ${err.message}`)));
    stdin.on('error', () => {}); // the program ended first: reported through its exit status
    stderr.on('data', (c: Buffer) => {
      if (this.stderr.length < MAX_STDERR) this.stderr += c.toString();
    });
    stdout.on('data', (c: Buffer) => {
      if (!this.push(c)) stdout.pause();
    });
    stdout.once('end', () => {
      void this.exit.then(({ code, signal }) => {
        if (this.destroyed) return;
        if (code === 0) this.push(null);
        else this.destroy(this.failure(code, signal));
      });
    });
  }

  private failure(code: number | null, signal: NodeJS.Signals | null): CommandConnError {
    const status = signal ? `was killed by ${signal}` : `has exited with exit status ${code}`;
    const why = this.stderr.trim() ? `: stderr=${this.stderr.trim()}` : '';
    return new CommandConnError('client.command_failed', `error during connect: command [${[this.command, ...this.args].join(' ')}] ${status}${this.hint}${why}`);
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.child.stdin.write(chunk, (err) => cb(err ?? null));
  }

  override _final(cb: (err?: Error | null) => void): void {
    const stdin = this.child.stdin;
    // node destroys a child's stdin when it exits: end() would then never call back
    if (stdin.destroyed) return cb();
    let called = false;
    const done = () => {
      if (!called) cb();
      called = true;
    };
    stdin.once('close', done);
    stdin.end(done);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    cb(err);
  }

  // what node's HTTP client and Agent call on a socket
  setTimeout(_ms: number, _cb?: () => void): this {
    return this;
  }
  setNoDelay(_on?: boolean): this {
    return this;
  }
  setKeepAlive(_on?: boolean, _delay?: number): this {
    return this;
  }
  ref(): this {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { ref?: () => void }).ref?.();
    return this;
  }
  /** An idle pooled connection must not keep the CLI alive. */
  unref(): this {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
    return this;
  }
}
