/**
 * Port forwarding over SPDY (`portforward.k8s.io`), as the kubelet serves
 * `kubectl port-forward`: one connection carries many forwarded
 * connections; each is a pair of streams the client opens with the same
 * `requestID` header, `streamType` data or error and the `port` header. The
 * pair's data stream carries the bytes both ways; a failure is written as
 * text on its error stream. Streams of a pair that does not complete within
 * the creation timeout get that said on the error stream.
 */
import type { Logger } from '../../../lib/logger.js';
import { dial, type ForwardTarget } from './port-forward.js';
import type { SpdySession, SpdyStream } from './spdy/session.js';

export const SPDY_PORT_FORWARD_PROTOCOLS = ['portforward.k8s.io'];

interface Pair { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }

/** The kubelet's checks of a new stream's headers; a message means the stream is refused (reset). */
export function checkForwardStream(headers: Record<string, string>): string | undefined {
  const port = headers.port ?? '';
  if (!port) return '"port" header is required';
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  const type = headers.streamtype ?? '';
  if (!type) return '"streamType" header is required';
  if (type !== 'data' && type !== 'error') return `invalid stream type "${type}"`;
  return undefined;
}

/**
 * Old clients send no requestID: their error and data streams come with
 * consecutive odd ids, so the error stream's id names the pair (the
 * kubelet's best effort, kept for them).
 */
function requestIdOf(st: SpdyStream): string {
  return st.headers.requestid || String(st.headers.streamtype === 'data' ? st.id - 2 : st.id);
}

export function serveSpdyPortForward(session: SpdySession, podId: string, target: ForwardTarget, log: Logger, timeoutMs = 30_000): void {
  const pairs = new Map<string, Pair>();
  const live = new Set<() => void>();
  session.on('stream', (st: SpdyStream) => {
    const refused = checkForwardStream(st.headers);
    if (refused) {
      log.debug('CRI port-forward stream refused', { reason: refused });
      st.resetStream();
      return;
    }
    st.reply();
    const id = requestIdOf(st);
    let p = pairs.get(id);
    if (!p) {
      const pair: Pair = {
        timer: setTimeout(() => {
          pair.error?.end(`(conn=${podId}, request=${id}) timed out waiting for streams`);
          pair.data?.end();
          pairs.delete(id);
        }, timeoutMs),
      };
      pairs.set(id, pair);
      p = pair;
    }
    const kind = st.headers.streamtype as 'data' | 'error';
    if (p[kind]) {
      st.end(`error processing stream for request ${id}: ${kind} stream already assigned`);
      return;
    }
    p[kind] = st;
    if (p.data && p.error) {
      clearTimeout(p.timer);
      pairs.delete(id);
      forward(p.data, p.error, Number(st.headers.port), podId, target, live);
    }
  });
  session.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    for (const destroy of live) destroy();
  });
}

function forward(data: SpdyStream, error: SpdyStream, port: number, podId: string, target: ForwardTarget, live: Set<() => void>): void {
  const conn = dial(target, port);
  live.add(conn.destroy);
  conn.output.on('data', (chunk: Buffer) => {
    if (!data.write(chunk)) {
      conn.output.pause();
      void data.drained().then(() => conn.output.resume());
    }
  });
  data.on('data', (chunk: Buffer) => {
    if (!conn.input.writableEnded && !conn.input.destroyed) conn.input.write(chunk);
  });
  data.on('end', () => {
    if (!conn.input.writableEnded && !conn.input.destroyed) conn.input.end();
  });
  data.on('reset', () => conn.destroy());
  void conn.ended.then((err) => {
    live.delete(conn.destroy);
    if (err) error.write(`error forwarding port ${port} to pod ${podId}, uid : ${err}`);
    data.end();
    error.end();
  });
}
