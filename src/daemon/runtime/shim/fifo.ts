/**
 * FIFOs between the daemon and a shim. The shim opens its ends with blocking
 * opens, so our readers must exist before Create; they are opened
 * O_NONBLOCK and wrapped in net.Socket so reads go through epoll and never
 * occupy libuv's thread pool (shim-notes §4).
 */
import { constants, open as openCb } from 'node:fs';
import { promisify } from 'node:util';
import { Socket } from 'node:net';
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
 * Opens the writing end of a stdin FIFO. O_RDWR never blocks and never fails
 * with ENXIO, even before the shim opens its reader (an exec's stdin is only
 * opened at Start).
 */
export async function openFifoWriter(path: string): Promise<Socket> {
  const fd = await openFd(path, constants.O_RDWR | constants.O_NONBLOCK);
  const s = new Socket({ fd, readable: false, writable: true });
  s.on('error', () => {}); // EPIPE after the process exits is expected
  return s;
}
