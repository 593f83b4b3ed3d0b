import { spawn, type SpawnOptions } from 'node:child_process';
import { close as closeCb, constants as fsConstants, open as openCb } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { constants } from 'node:os';
import { redactSecrets } from './redact.js';
import { span } from './spans.js';
import { activeSpawner, errnoError, type Spawner } from './spawner/client.js';
import { Op } from './spawner/protocol.js';

/**
 * A program that failed. The message names the program, not its argv:
 * arguments can hold credentials and host paths, and messages reach clients.
 */
export class ExecError extends Error {
  constructor(
    argv: readonly string[],
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
    /** What the program printed before failing (CNI plugins report errors there). */
    readonly stdout = '',
  ) {
    super(`${basename(argv[0] ?? '')} failed (${signal ?? `exit ${exitCode}`}): ${redactSecrets(stderr.trim()) || 'no output'}`);
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Bytes or a stream to feed to stdin; stdin is /dev/null otherwise. */
  input?: string | Uint8Array | Readable;
  /** Start in a new session so the child outlives us (e.g. shims). */
  detached?: boolean;
}

export interface RunResult {
  stdout: string;
  /** stdout as bytes, for programs that print binary (protobuf) */
  stdoutBytes: Buffer;
  stderr: string;
}

/** Runs a program to completion, resolving with its output or rejecting with ExecError. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return span(`exec ${basename(cmd)}`, () => runProgram(cmd, args, opts));
}

function runProgram(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const spawner = activeSpawner();
  // a stream as stdin stays with child_process: the helper takes stdin as bytes
  if (spawner && (opts.input === undefined || typeof opts.input === 'string' || opts.input instanceof Uint8Array)) return runThrough(spawner, cmd, args, opts);
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = {
      cwd: opts.cwd,
      env: opts.env,
      detached: opts.detached,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    };
    const child = spawn(cmd, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout: stdoutBytes.toString(), stdoutBytes, stderr });
      else reject(new ExecError([cmd, ...args], code, signal, stderr, stdoutBytes.toString()));
    });
    if (opts.input !== undefined) {
      const stdin = child.stdin!;
      stdin.on('error', () => {}); // the child may exit before reading everything
      if (typeof opts.input === 'string' || opts.input instanceof Uint8Array) stdin.end(opts.input);
      else opts.input.pipe(stdin);
    }
  });
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** runProgram through native/berth-spawner: same results and errors, no fork of the daemon. */
async function runThrough(spawner: Spawner, cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const env = envPairs(opts.env);
  const input = typeof opts.input === 'string' ? Buffer.from(opts.input) : opts.input as Uint8Array | undefined;
  const r = await spawner.call({ op: Op.Spawn, cmd, argv: [cmd, ...args], cwd: opts.cwd, env, input, detached: opts.detached }, `exec ${basename(cmd)}`);
  if (r.errno) {
    // as child_process reports a program it could not start: `spawn <cmd> ENOENT`
    const err = errnoError(r.errno, `spawn ${cmd}`, cmd);
    err.message = `spawn ${cmd} ${err.code}`;
    throw Object.assign(err, { spawnargs: [...args] });
  }
  const stdoutBytes = r.stdout;
  const stderr = r.stderr.toString();
  if (r.exitCode === 0 && r.signal === 0) return { stdout: stdoutBytes.toString(), stdoutBytes, stderr };
  const signal = r.signal ? signalNames.get(r.signal) ?? null : null;
  throw new ExecError([cmd, ...args], r.signal ? null : r.exitCode, signal, stderr, stdoutBytes.toString());
}

export interface StreamingOptions {
  env?: NodeJS.ProcessEnv;
  /** Gets the program's stdout and stderr, interleaved, as they are written. */
  output(data: Buffer): void;
  /**
   * Makes a FIFO at the given path for the output to pass through (the
   * helper cannot stream it back); removed after the run.
   */
  makeFifo(path: string): Promise<void>;
  /** Where that FIFO goes. */
  fifoPath: string;
}

/**
 * Runs a program to its exit with its output streamed to `o.output`; resolves
 * with its exit code (128 + n for signal n, as a shell reports it). It fails
 * only when the program could not be started.
 */
export function runStreaming(cmd: string, args: readonly string[], o: StreamingOptions): Promise<number> {
  return span(`exec ${basename(cmd)}`, async () => {
    const spawner = activeSpawner();
    if (!spawner) return streamThroughChildProcess(cmd, args, o);
    const fifo = o.fifoPath;
    await o.makeFifo(fifo);
    try {
      // the reader first: the helper's open of the writing end waits for one
      const fd = await openFd(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      const reader = new Socket({ fd, readable: true, writable: false });
      const drained = new Promise<void>((resolve) => {
        reader.on('data', (b: Buffer) => o.output(b));
        reader.once('end', resolve).once('close', resolve).once('error', () => resolve());
      });
      const env = envPairs(o.env);
      let r;
      try {
        r = await spawner.call({ op: Op.Spawn, cmd, argv: [cmd, ...args], env, outputPath: fifo, stderrToOutput: true }, `exec ${basename(cmd)}`);
      } catch (err) {
        reader.destroy();
        throw err;
      }
      if (r.errno) {
        reader.destroy();
        const err = errnoError(r.errno, `spawn ${cmd}`, cmd);
        err.message = `spawn ${cmd} ${err.code}`;
        throw err;
      }
      await drained;
      return r.signal ? 128 + r.signal : r.exitCode;
    } finally {
      await rm(fifo, { force: true });
    }
  });
}

// a raw fd, not a FileHandle: the socket owns and closes it
const openFd = promisify(openCb);

function streamThroughChildProcess(cmd: string, args: readonly string[], o: StreamingOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => o.output(b));
    child.stderr!.on('data', (b: Buffer) => o.output(b));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(signal ? 128 + (constants.signals[signal] ?? 0) : code ?? 0));
  });
}

/** Where a program's output passes when the helper starts it; `make` (a pool's take) instead of a mkfifo(1) spawn. */
export interface OutputFifo {
  path: string;
  make?(path: string): Promise<void>;
}

export interface StdoutProgram {
  stdout: Readable;
  /** Resolves at a zero exit, rejects with ExecError otherwise. */
  done: Promise<void>;
  /** Stops reading: the program ends at its next write (EPIPE). */
  stop(): void;
}

/**
 * A program whose stdout is read as a stream (stdin /dev/null), started
 * through the helper when there is one, so the daemon does not fork: the
 * output then passes through a FIFO made at `fifo.path` (removed after).
 */
export async function spawnStdout(cmd: string, args: readonly string[], fifo: OutputFifo): Promise<StdoutProgram> {
  const spawner = activeSpawner();
  if (!spawner) {
    const { child, done } = forked(cmd, args, 'ignore', 'pipe');
    return { stdout: child.stdout!, done, stop: () => child.kill('SIGKILL') };
  }
  const fifoPath = fifo.path;
  await makeFifo(fifo);
  let fd: number;
  try {
    fd = await openFd(fifoPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    await rm(fifoPath, { force: true });
    throw err;
  }
  const reader = new Socket({ fd, readable: true, writable: false });
  const done = streamedThroughHelper(spawner, cmd, args, { outputPath: fifoPath })
    .finally(() => rm(fifoPath, { force: true }));
  done.catch(() => reader.destroy()); // a program that never opened the FIFO leaves the reader waiting
  return { stdout: reader, done, stop: () => reader.destroy() };
}

export interface StdinProgram {
  /** The program's stdin; end it to let the program finish. */
  stdin: Writable;
  /** Resolves at a zero exit, rejects with ExecError otherwise. */
  done: Promise<void>;
  /** Ends the program if it still runs (true then): SIGKILL, or through the helper EOF on its stdin. */
  stop(): boolean;
}

/**
 * A program fed a stream on stdin (stdout discarded), started through the
 * helper when there is one, so the daemon does not fork: the stream then
 * passes through a FIFO made at `fifo.path` (removed after). The daemon
 * keeps a reader of its own open until the exit (never read: it keeps what
 * was written when `stdin` ends before the program opened the FIFO, and no
 * open waits for the other side); the program sees EOF once `stdin` ends,
 * and `stdin` is destroyed when the program exits (it would wait for a
 * reader forever otherwise): with EPIPE if it was not finished, as a
 * child_process stdin fails.
 */
export async function spawnStdin(cmd: string, args: readonly string[], fifo: OutputFifo): Promise<StdinProgram> {
  const spawner = activeSpawner();
  if (!spawner) {
    const { child, done } = forked(cmd, args, 'pipe', 'ignore');
    const running = () => child.exitCode === null && child.signalCode === null;
    return { stdin: child.stdin!, done, stop: () => running() && child.kill('SIGKILL') };
  }
  const fifoPath = fifo.path;
  await makeFifo(fifo);
  let keep: number | undefined;
  let fd: number;
  try {
    keep = await openFd(fifoPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    fd = await openFd(fifoPath, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    if (keep !== undefined) closeCb(keep, () => {});
    await rm(fifoPath, { force: true });
    throw err;
  }
  const kept = keep;
  const writer = new Socket({ fd, readable: false, writable: true });
  // failures reach the caller through `done` and its own pipeline; an unheard 'error' would end the daemon
  writer.on('error', () => {});
  let exited = false;
  const done = streamedThroughHelper(spawner, cmd, args, { inputPath: fifoPath })
    .finally(() => {
      exited = true;
      closeCb(kept, () => {});
      writer.destroy(writer.writableFinished ? undefined : Object.assign(new Error(`write EPIPE: ${basename(cmd)} exited before reading all its input`), { code: 'EPIPE' }));
      return rm(fifoPath, { force: true });
    });
  return { stdin: writer, done, stop: () => !exited && (writer.destroy(), true) };
}

/** A program started by child_process (no helper): `done` as the helper's. */
function forked(cmd: string, args: readonly string[], stdin: 'pipe' | 'ignore', stdout: 'pipe' | 'ignore') {
  const child = spawn(cmd, args, { stdio: [stdin, stdout, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new ExecError([cmd, ...args], code, signal, stderr))));
  });
  return { child, done };
}

/** `KEY=value` pairs of an environment (the daemon's own by default), as the helper takes them. */
function envPairs(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
}

/** The FIFO a streamed program's stdin or stdout passes through: from a pool, or by mkfifo(1). */
function makeFifo(fifo: OutputFifo): Promise<unknown> {
  return fifo.make ? fifo.make(fifo.path) : run('mkfifo', ['-m', '0600', fifo.path]);
}

/** A program with its stdout or stdin on a FIFO, run by the helper: resolves at a zero exit, rejects with its error otherwise. */
async function streamedThroughHelper(spawner: Spawner, cmd: string, args: readonly string[], fifo: { outputPath: string } | { inputPath: string }): Promise<void> {
  const r = await span(`exec ${basename(cmd)}`, () => spawner.call({ op: Op.Spawn, cmd, argv: [cmd, ...args], env: envPairs(), ...fifo }, `exec ${basename(cmd)}`));
  if (r.errno) throw errnoError(r.errno, `spawn ${cmd}`, cmd);
  if (r.exitCode !== 0 || r.signal !== 0) throw new ExecError([cmd, ...args], r.signal ? null : r.exitCode, r.signal ? signalNames.get(r.signal) ?? null : null, r.stderr.toString());
}
