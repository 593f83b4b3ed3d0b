/**
 * Creates batches of small files for `PUT /archive` on a worker thread.
 * Each file costs six syscalls (open, write, fchown, fchmod, futimes,
 * close); as fs promises that is six hops through libuv's thread pool, and
 * with a thousand files the hops, not the disk, are the cost. The worker
 * makes the same calls synchronously, a whole batch per message, off the
 * daemon's event loop, and leaves out the chown and chmod that would change
 * nothing.
 *
 * The guards are the extractor's own: every file is named through the
 * descriptor of a directory the caller resolved and holds open until the
 * batch settles (`/proc/self/fd/<fd>/<name>`, the worker shares the fd
 * table), and created with O_CREAT|O_EXCL|O_NOFOLLOW, so nothing is
 * written through an existing entry or a symlink.
 *
 *   const w = smallFileWorker();
 *   await w.create(dir.fd, [{ name: 'a', data, mode: 0o644, uid: 0, gid: 0, mtime }]);
 */
import { Worker } from 'node:worker_threads';

export interface SmallFile {
  /** A single path component inside the directory. */
  name: string;
  data: Buffer;
  /** Permission bits with setuid/setgid/sticky (applied after the chown, which clears them). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch (fractions kept). */
  mtime: number;
}

/** Plain JS run by the worker (eval'd: the daemon is one bundled file). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
parentPort.on('message', ({ id, dirFd, files, blob }) => {
  let i = 0;
  try {
    // a new file is ours, with the directory's group under setgid or grpid: when all three agree
    // and the archive wants them too, the chown would change nothing
    const dir = fs.fstatSync(dirFd);
    const euid = process.geteuid();
    const egid = process.getegid();
    const umask = process.umask();
    for (; i < files.length; i++) {
      const f = files[i];
      const perm = f.mode & 0o7777;
      const fd = fs.openSync('/proc/self/fd/' + dirFd + '/' + f.name, FLAGS, perm & 0o777);
      try {
        for (let off = f.offset, end = f.offset + f.length; off < end; ) off += fs.writeSync(fd, blob, off, end - off);
        if (f.uid !== euid || f.gid !== egid || dir.gid !== egid) fs.fchownSync(fd, f.uid, f.gid);
        // the open already set the mode unless the umask took bits from it or it has special bits
        if (perm !== (perm & 0o777 & ~umask)) fs.fchmodSync(fd, perm);
        fs.futimesSync(fd, f.mtime, f.mtime);
      } finally {
        fs.closeSync(fd);
      }
    }
    parentPort.postMessage({ id });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: err.message, code: err.code, name: files[i] && files[i].name } });
  }
});
`;

/** Idle time after which the worker exits, giving its memory back. */
const IDLE_MS = 10_000;

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class SmallFileWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;

  /** Creates `files` in the directory open as `dirFd` (kept open by the caller until this settles), in order; stops at the first failure. */
  create(dirFd: number, files: SmallFile[]): Promise<void> {
    if (files.length === 0) return Promise.resolve();
    const w = this.ensure();
    const total = files.reduce((n, f) => n + f.data.length, 0);
    // one fresh buffer per batch: a pooled Buffer's memory must never be transferred
    const blob = new Uint8Array(total);
    let offset = 0;
    const meta = files.map((f) => {
      blob.set(f.data, offset);
      const m = { name: f.name, offset, length: f.data.length, mode: f.mode, uid: f.uid, gid: f.gid, mtime: f.mtime };
      offset += f.data.length;
      return m;
    });
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.idle) clearTimeout(this.idle);
      this.idle = undefined;
      w.ref(); // a batch in flight keeps the process alive
      w.postMessage({ id, dirFd, files: meta, blob }, [blob.buffer]);
    });
  }

  /** Stops the worker now (tests, daemon shutdown); batches in flight fail. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    if (w) await w.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    w.on('message', (msg: { id: number; error?: { message: string; code?: string } }) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (p) {
        if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
        else p.resolve();
      }
      if (this.pending.size === 0 && this.worker === w) {
        w.unref();
        this.idle = setTimeout(() => void this.close(), IDLE_MS).unref();
      }
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`small-file worker exited with code ${code}`)));
    this.worker = w;
    return w;
  }
}

let shared: SmallFileWorker | undefined;

/** The daemon's one worker, started on first use. */
export function smallFileWorker(): SmallFileWorker {
  shared ??= new SmallFileWorker();
  return shared;
}
