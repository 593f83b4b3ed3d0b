/**
 * berthd's end of native/berth-spawner: one long-lived helper process that
 * starts programs and makes mount/umount/netns syscalls, so the daemon never
 * forks itself (see the helper's header for why).
 *
 *   const s = new Spawner('/path/to/berth-spawner', log);
 *   installSpawner(s);                       // lib/exec.ts, lib/mount.ts use it from now on
 *   await s.call({ op: Op.Umount, target, flags: 0 }, 'umount');
 *
 * The helper is started on first use. If it dies, every request in flight
 * fails with `spawner.exited` (never hangs) and the next request starts a new
 * one: restarting keeps the fast path, and a crash stays visible in the log.
 * If it cannot be started at all (missing, not executable), the Spawner turns
 * itself off with one warning and callers fall back to child_process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { SystemError } from '../../errdefs/index.js';
import { decodeResponse, encodeRequest, FrameReader, type Request, type Response } from './protocol.js';

/** The helper's errno for "the worker of this request died" (see native/berth-spawner.c reap()). */
const ECHILD = 10;

interface Logger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

interface Pending {
  resolve(r: Response): void;
  reject(e: Error): void;
  what: string;
}

export class Spawner {
  private child?: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disabled = false;

  constructor(private readonly path: string, private readonly log?: Logger) {}

  /** False once the helper could not be started: use child_process instead. */
  get usable(): boolean {
    return !this.disabled;
  }

  /** pid of the running helper, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the helper now rather than at the first request (berthd at boot, while its heap is small). */
  start(): void {
    this.ensure();
  }

  /** Sends one request; `what` names it in errors ("mount", "exec runc"). */
  call(req: Request, what: string): Promise<Response> {
    const child = this.ensure();
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffffffff) + 1;
    const frame = encodeRequest(id, req);
    return new Promise<Response>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, what });
      if (this.pending.size === 1) (child.stdout as Socket).ref();
      child.stdin!.write(frame);
    });
  }

  /** Stops the helper: it exits at EOF on its stdin; requests in flight fail. */
  close(): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.stdin!.end();
    this.failAll(new SystemError('spawner.exited', 'berth-spawner was stopped'));
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    // the last fork of the daemon itself: the helper then forks instead of berthd
    const child = spawn(this.path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    const frames = new FrameReader();
    child.stdout!.on('data', (chunk: Buffer) => {
      let bodies: Buffer[];
      try {
        bodies = frames.push(chunk);
      } catch (err) {
        this.lost(child, `sent a bad frame (${(err as Error).message})`);
        return;
      }
      for (const body of bodies) this.deliver(decodeResponse(body));
    });
    child.stdin!.on('error', () => {}); // EPIPE when it died: 'exit' reports it
    child.on('error', (err) => {
      if (child.pid === undefined) {
        this.disabled = true;
        this.log?.warn('berth-spawner could not be started; programs are started through child_process (slower)', { path: this.path, error: err.message });
      }
      this.lost(child, err.message);
    });
    child.on('exit', (code, signal) => this.lost(child, signal ? `killed by ${signal}` : `exit ${code}`));
    // a helper with no request in flight must not keep a process (the CLI, a test) alive
    child.unref();
    (child.stdout as Socket).unref();
    (child.stdin as Socket).unref();
    return child;
  }

  private deliver(r: Response): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) (this.child?.stdout as Socket | undefined)?.unref();
    // the helper answers for a worker that died before answering (OOM killer, a stray kill)
    if (r.errno === ECHILD && r.stderr.subarray(0, 7).toString() === 'worker ') {
      p.reject(new SystemError('spawner.exited', `berth-spawner's ${r.stderr.toString()} while running ${p.what}; the request may be retried`));
      return;
    }
    p.resolve(r);
  }

  private lost(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (!this.disabled) this.log?.warn('berth-spawner exited; the next request starts a new one', { reason: why, inFlight: this.pending.size });
    this.failAll(new SystemError('spawner.exited', `berth-spawner exited (${why})`));
  }

  private failAll(base: SystemError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new SystemError(base.code, `${base.message} while running ${p.what}; the request may be retried`, { cause: base }));
  }
}

const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

let installed: Spawner | undefined;

/** Routes lib/exec.ts's run() and lib/mount.ts through `s` (undefined: back to child_process). */
export function installSpawner(s: Spawner | undefined): void {
  installed = s;
}

/** The installed spawner, if it can be used. */
export function activeSpawner(): Spawner | undefined {
  return installed?.usable ? installed : undefined;
}

/** An errno's name and the C library's message ('ENOENT', 'no such file or directory'). */
export function describeErrno(errno: number): { code: string; message: string } {
  const known = getSystemErrorMap().get(-errno);
  // libuv's map lacks some (ECHILD); the OS's table has every name
  return known ? { code: known[0], message: known[1] } : { code: errnoNames.get(errno) ?? `E${errno}`, message: `errno ${errno}` };
}

/** An errno from the helper as Node reports a failed syscall: code 'ENOENT', errno -2, and the C library's message. */
export function errnoError(errno: number, syscall: string, path?: string): NodeJS.ErrnoException {
  const { code, message } = describeErrno(errno);
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${path ? `${path} ` : ''}${code} (${message})`);
  err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  return err;
}
