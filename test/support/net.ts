/** Small network helpers for transport tests: a free loopback port, raw requests with a deadline. */
import { createServer, connect, type Socket } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RawOutcome {
  /** The first line of the answer (`HTTP/1.1 200 OK`), if any arrived. */
  statusLine?: string;
  data: string;
  /** The daemon closed the connection. */
  closed: boolean;
  /** Neither an answer nor a close within the deadline. */
  timedOut: boolean;
  ms: number;
}

/**
 * Sends `chunks` on a fresh connection to a unix socket (each after `gapMs`),
 * then waits until the daemon answers a status line (or closes) or `deadlineMs` passes.
 * `untilClose`: wait for the close even after an answer.
 */
export function rawExchange(socketPath: string, chunks: (string | Buffer)[], o: { gapMs?: number; deadlineMs?: number; untilClose?: boolean; endAfter?: boolean } = {}): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock: Socket = connect({ path: socketPath });
    let data = '';
    let finished = false;
    const finish = (closed: boolean, timedOut: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      const statusLine = /^HTTP\/1\.[01] \d{3}[^\r\n]*/.exec(data)?.[0];
      resolve({ ...(statusLine ? { statusLine } : {}), data, closed, timedOut, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false, true), o.deadlineMs ?? 10_000);
    sock.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (!o.untilClose && /^HTTP\/1\.[01] \d{3}/.test(data)) finish(false, false);
    });
    sock.on('close', () => finish(true, false));
    sock.on('error', () => {});
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (sock.destroyed) return;
        sock.write(c);
        if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
      }
      if (o.endAfter) sock.end();
    });
  });
}
