/**
 * FIFOs between the daemon and a shim. The shim opens its ends with blocking
 * opens, so our readers must exist before Create; they are opened
 * O_NONBLOCK and wrapped in net.Socket so reads go through epoll and never
 * occupy libuv's thread pool (shim-notes §4).
 */
import { constants, open as openCb } from 'node:fs';
import { promisify } from 'node:util';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../../lib/exec.js';

export async function mkfifo(paths: string[]): Promise<void> {
  if (paths.length) await run('mkfifo', ['-m', '0600', ...paths]);
}

// a raw fd, not a FileHandle: the socket owns and closes it (a FileHandle would close it again when collected)
const openFd = promisify(openCb);

export async function openFifoReader(path: string): Promise<Socket> {
  const fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return new Socket({ fd, readable: true, writable: false });
}

/**
 * The writing end of a stdin FIFO, opened only once the shim reads it.
 *
 * The shim opens its reader in a goroutine after Create (init) or Start
 * (exec) has returned. A writer that is closed before that reader exists
 * takes the buffered bytes with it, and the shim's open then waits forever:
 * the process never gets its input nor EOF (seen under load as `exec -i C
 * cat` hanging with no output). So writes wait here until an
 * O_WRONLY|O_NONBLOCK open succeeds, which it does only when a reader is
 * there; until then each attempt fails with ENXIO and is retried.
 */
export class StdinFifo extends Writable {
  private socket: Socket | undefined;

  constructor(private readonly path: string) {
    super({ highWaterMark: 64 << 10 });
  }

  override _construct(cb: (err?: Error | null) => void): void {
    this.openWhenRead().then(() => cb(), cb);
  }

  private async openWhenRead(): Promise<void> {
    for (let wait = 1; !this.destroyed; wait = Math.min(wait * 2, 50)) {
      try {
        const fd = await openFd(this.path, constants.O_WRONLY | constants.O_NONBLOCK);
        const socket = new Socket({ fd, readable: false, writable: true });
        socket.on('error', () => {}); // EPIPE once the process is gone: reported through _write
        if (this.destroyed) socket.destroy();
        else this.socket = socket;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      }
      await sleep(wait);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.socket) return cb();
    this.socket.write(chunk, (err) => cb(err ?? null));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket?.destroy();
    this.socket = undefined;
    cb(err);
  }
}
