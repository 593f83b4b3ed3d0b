/**
 * What one client may cost the daemon: header size, JSON body size (each and
 * all together), time to send headers and JSON bodies, open connections.
 *
 * Time limits apply to *receiving requests* only, never to answers: a
 * `logs -f`, `events`, `wait`, `stats` or a hijacked attach/exec stream runs
 * as long as it needs. Request bodies that are streams (image load/import,
 * build contexts, archives: anything not declared as JSON) are not timed
 * while a handler reads them either; only a body left unread after the
 * answer is (a client must not hold a connection by trickling it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Unavailable } from '../../../errdefs/index.js';

export interface ApiLimits {
  /** Bytes of request line + headers (node's maxHeaderSize); over it: 431. */
  maxHeaderSize: number;
  /** Bytes of one JSON body; over it: 400. */
  maxJsonBody: number;
  /** Bytes of all JSON bodies being read at once; over it: 503. */
  jsonBudget: number;
  headersTimeoutMs: number;
  /** Time from the request's start until its JSON body has arrived. */
  bodyTimeoutMs: number;
  /** Idle time of a kept-alive connection between requests. */
  keepAliveTimeoutMs: number;
  tlsHandshakeTimeoutMs: number;
  /** Open connections per listener; more are closed at once. */
  maxConnections: number;
  /** Bytes of one streamed (non-JSON) request body; over it: 400 and the connection closed. */
  maxUpload: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxHeaderSize: 256 << 10,
  maxJsonBody: 8 << 20,
  jsonBudget: 64 << 20,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  tlsHandshakeTimeoutMs: 10_000,
  maxConnections: 2048,
  maxUpload: 64 * 2 ** 30,
};

/** A shared allowance of bytes: JSON bodies take from it while they are read. */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  take(n: number): void {
    if (this.used + n > this.limit) {
      throw new Unavailable('request.server_busy', 'the daemon is reading too many request bodies at once; try again');
    }
    this.used += n;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get inUse(): number {
    return this.used;
  }
}

function hasBody(raw: IncomingMessage): boolean {
  const len = raw.headers['content-length'];
  return len !== undefined ? Number(len) > 0 : raw.headers['transfer-encoding'] !== undefined;
}

function isJson(raw: IncomingMessage): boolean {
  return /^application\/json\b/i.test(raw.headers['content-type'] ?? '');
}

/** Closes the connection if the request body has not fully arrived `ms` from now. */
function deadline(raw: IncomingMessage, ms: number): void {
  if (raw.complete) return;
  const timer = setTimeout(() => {
    if (!raw.complete) raw.socket?.destroy();
  }, ms);
  timer.unref();
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
}

/**
 * Applies the body deadline to one request: JSON bodies must arrive within
 * `ms` of the request's start; any body still unread once the answer is
 * complete must arrive within `ms` after that.
 */
export function guardRequestBody(raw: IncomingMessage, res: ServerResponse | undefined, ms: number): void {
  if (!hasBody(raw)) return;
  if (isJson(raw)) {
    deadline(raw, ms);
    return;
  }
  res?.once('finish', () => deadline(raw, ms));
}
