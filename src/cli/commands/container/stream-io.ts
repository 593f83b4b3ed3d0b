/**
 * The client side of a hijacked attach/exec connection: output to our
 * stdout/stderr (demultiplexed unless it is a TTY), our stdin to the
 * connection, raw terminal mode and window-size changes for `-t`.
 */
import type { Socket } from 'node:net';
import { StdDemuxer, StdStream } from '../../../api/stdcopy.js';

export interface StreamOptions {
  tty: boolean;
  /** Forward our stdin. */
  stdin: boolean;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  /** Called when our terminal changes size (TTY sessions). */
  onResize?: (h: number, w: number) => void;
  /** The detach sequence the daemon watches for (TTY sessions). */
  detachKeys?: number[];
}

import { DEFAULT_DETACH_KEYS } from '../../../lib/detach-keys.js';

/** Resolves when the daemon ends the output (the process exited), or on detach (`true`). */
export function pumpStreams(socket: Socket, o: StreamOptions): Promise<{ detached: boolean }> {
  return new Promise((resolve) => {
    let detached = false;
    const restore: (() => void)[] = [];
    const finish = () => {
      for (const r of restore.reverse()) r();
      resolve({ detached });
    };

    if (o.tty) socket.pipe(o.out, { end: false });
    else {
      const demux = new StdDemuxer((stream, payload) => (stream === StdStream.Stderr ? o.err : o.out).write(payload));
      socket.on('data', (c: Buffer) => demux.push(c));
    }
    // a process that exited without output before we listened: the EOF already went by
    if (socket.readableEnded || socket.destroyed) {
      finish();
      return;
    }
    socket.once('end', finish);
    socket.once('error', finish);
    socket.resume();

    if (o.stdin) {
      const stdin = process.stdin;
      if (o.tty && stdin.isTTY) {
        stdin.setRawMode(true);
        restore.push(() => stdin.setRawMode(false));
      }
      // the daemon acts on the detach keys (it must not take them for EOF); we only note them
      const keys = o.detachKeys ?? DEFAULT_DETACH_KEYS;
      let matched = 0;
      const onData = (chunk: Buffer) => {
        if (o.tty) {
          for (const b of chunk) {
            matched = b === keys[matched] ? matched + 1 : b === keys[0] ? 1 : 0;
            if (matched === keys.length) detached = true;
          }
        }
        socket.write(chunk);
      };
      stdin.on('data', onData);
      const onEnd = () => socket.end(); // half-close: the daemon closes the process's stdin
      stdin.once('end', onEnd);
      restore.push(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      });
      stdin.resume();
    } else {
      socket.end(); // no stdin: half-close right away, as the docker CLI does
    }

    if (o.tty && o.onResize && o.out.isTTY) {
      const resize = () => o.onResize!(o.out.rows, o.out.columns);
      process.on('SIGWINCH', resize);
      restore.push(() => process.off('SIGWINCH', resize));
    }
  });
}
