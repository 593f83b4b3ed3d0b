/**
 * HTTP(S) requests to registries over node:http, with keep-alive agents per
 * TLS setting. Bodies stream both ways; nothing here buffers a blob.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { SystemError } from '../../errdefs/index.js';
import { pipeline } from 'node:stream/promises';

export interface TlsSettings {
  /** Extra CA certificates (certs.d), PEM. */
  ca?: Buffer[];
  /** Client certificate and key (certs.d `*.cert` / `*.key`). */
  cert?: Buffer;
  key?: Buffer;
  skipVerify: boolean;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  tls?: TlsSettings;
  signal?: AbortSignal;
}

/** A connection-level failure (refused, reset, TLS): another endpoint, or a retry, may do better. */
export class TransportError extends SystemError {
  constructor(readonly url: URL, cause: Error) {
    super('registry.unreachable', `${url.origin}: ${cause.message}`, { cause });
  }
}

const IDLE_TIMEOUT_MS = 60_000;
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32 });
const httpsAgents = new Map<string, HttpsAgent>();

function httpsAgent(tls: TlsSettings | undefined): HttpsAgent {
  const key = tls ? JSON.stringify([tls.skipVerify, tls.ca?.map((c) => c.toString('base64')), tls.cert?.toString('base64')]) : '';
  let agent = httpsAgents.get(key);
  if (!agent) {
    agent = new HttpsAgent({
      keepAlive: true, maxSockets: 32,
      rejectUnauthorized: !tls?.skipVerify,
      // certs.d CAs are trusted besides the system's, as Docker appends them to its pool
      ...(tls?.ca?.length ? { ca: [...rootCertificates, ...tls.ca.map((c) => c.toString('utf8'))] } : {}), ...(tls?.cert ? { cert: tls.cert } : {}), ...(tls?.key ? { key: tls.key } : {}),
    });
    httpsAgents.set(key, agent);
  }
  return agent;
}

/** Sends a request; resolves with the response head (any status), its body left to read. */
export function send(req: HttpRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const https = req.url.protocol === 'https:';
    const headers: OutgoingHttpHeaders = { 'User-Agent': 'berth/27.0 (docker compatible)', ...req.headers };
    if (Buffer.isBuffer(req.body)) headers['Content-Length'] = req.body.length;
    const opts = { method: req.method, headers, agent: https ? httpsAgent(req.tls) : httpAgent, ...(req.signal ? { signal: req.signal } : {}) };
    const r = (https ? httpsRequest : httpRequest)(req.url, opts, resolve);
    r.setTimeout(IDLE_TIMEOUT_MS, () => r.destroy(new Error('timeout waiting for the registry')));
    r.once('error', (err) => reject(req.signal?.aborted ? err : new TransportError(req.url, err)));
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else pipeline(req.body, r).catch((err: Error) => r.destroy(err));
  });
}

/** Reads a (small) response body, at most `limit` bytes. */
export async function readBody(res: IncomingMessage, limit = 8 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      res.destroy();
      throw new Error(`response from ${res.url ?? 'the registry'} is larger than ${limit} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** Drops a body we do not need, so the connection can be reused. */
export function discard(res: IncomingMessage): void {
  res.resume();
}
