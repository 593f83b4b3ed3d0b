/**
 * The authorization hook of the API server (moby's authz middleware):
 * every routed request is put to an authorizer before its handler runs,
 * and its complete answer (JSON, text, empty) is put to it again before it
 * is sent; a refusal at either point becomes the error answer instead.
 * Streamed and hijacked answers cannot be held back: they go out as they
 * are written, and the authorizer is told about them afterwards.
 *
 * The authorizer is an interface here; the plugins folder implements it.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { Headers, Reply } from './reply.js';

/** Docker's limit: bodies this large or larger are not shown to authorization plugins. */
export const AUTHZ_MAX_BODY = 1 << 20;

export interface AuthzRequest {
  /** The TLS client certificate's common name, else empty. */
  user: string;
  /** `TLS` when `user` came from a client certificate. */
  authMethod: string;
  method: string;
  /** As the client sent it, with the version prefix and query. */
  uri: string;
  headers: Record<string, string>;
  /** JSON bodies under AUTHZ_MAX_BODY (never for `/auth`, which carries credentials). */
  body?: Buffer;
}

export interface AuthzResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface RequestAuthorizer {
  /** Throws (Forbidden, or a failure) to refuse the request. */
  authorizeRequest(r: AuthzRequest): Promise<void>;
  /** Throws to refuse the answer; `res.body` only for JSON answers that were held back. */
  authorizeResponse(r: AuthzRequest, res: AuthzResponse): Promise<void>;
}

/** Go's canonical header name (`content-type` → `Content-Type`), as plugins written in Go expect. */
export function canonicalHeader(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

// x-berth-build-secrets: `berth build --secret` values (routes/build)
const SECRET_HEADERS = new Set(['authorization', 'x-registry-config', 'x-registry-auth', 'x-berth-build-secrets']);

/** Counts bytes held in memory across requests (the server's JSON body budget). */
export interface BodyBudget {
  take(n: number): void;
  give(n: number): void;
}

/**
 * The request as moby shows it to plugins; credentials headers left out.
 * Reads a small JSON body (returned, so the handler still gets it); its
 * bytes are taken from `budget`, and the caller gives them back when the
 * request is done.
 */
export async function describeRequest(raw: IncomingMessage, upgradeBody?: Buffer, budget?: BodyBudget): Promise<AuthzRequest> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.headers)) {
    if (SECRET_HEADERS.has(k) || v === undefined) continue;
    headers[canonicalHeader(k)] = Array.isArray(v) ? v[v.length - 1]! : v;
  }
  const uri = raw.url ?? '/';
  const cert = (raw.socket as TLSSocket).getPeerCertificate?.();
  const user = cert && typeof cert.subject?.CN === 'string' ? cert.subject.CN : '';
  const r: AuthzRequest = { user, authMethod: user ? 'TLS' : '', method: raw.method ?? 'GET', uri, headers };
  const length = Number(raw.headers['content-length'] ?? 0);
  if (raw.headers['content-type'] === 'application/json' && !uri.endsWith('/auth') && length > 0 && length < AUTHZ_MAX_BODY) {
    r.body = upgradeBody ?? (await readAll(raw, budget));
  }
  return r;
}

async function readAll(raw: IncomingMessage, budget?: BodyBudget): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of raw as AsyncIterable<Buffer>) {
      budget?.take(c.length);
      chunks.push(c);
    }
  } catch (err) {
    budget?.give(chunks.reduce((n, c) => n + c.length, 0));
    throw err;
  }
  return Buffer.concat(chunks);
}

type Held = { status: number; headers: Record<string, string>; body?: Buffer; send: () => void };

/**
 * A Reply that holds complete answers back until `release` has asked the
 * authorizer; streams and hijacks pass straight through.
 */
export class GatedReply implements Reply {
  private held: Held | undefined;
  private passed = false;

  constructor(private readonly inner: Reply) {}

  get sent(): boolean {
    return this.held !== undefined || this.inner.sent;
  }

  json(status: number, body: unknown, headers: Headers = {}): void {
    this.held = { status, headers: flat({ 'Content-Type': 'application/json', ...headers }), body: Buffer.from(`${JSON.stringify(body)}\n`), send: () => this.inner.json(status, body, headers) };
  }

  empty(status: number, headers: Headers = {}): void {
    this.held = { status, headers: flat(headers), send: () => this.inner.empty(status, headers) };
  }

  text(status: number, body: string, contentType?: string, headers: Headers = {}): void {
    this.held = { status, headers: flat({ 'Content-Type': contentType ?? 'text/plain; charset=utf-8', ...headers }), send: () => this.inner.text(status, body, contentType, headers) };
  }

  stream(status: number, headers: Headers): Writable {
    this.passed = true;
    this.held = undefined;
    return this.inner.stream(status, headers);
  }

  hijack(contentType: string): { socket: Socket | undefined; output: Writable; upgraded: boolean } {
    this.passed = true;
    return this.inner.hijack(contentType);
  }

  switchProtocols(headers: Headers): Socket | undefined {
    this.passed = true;
    return this.inner.switchProtocols(headers);
  }

  abort(): void {
    this.held = undefined;
    this.inner.abort();
  }

  /**
   * After the handler: asks the authorizer about the answer and sends it,
   * or throws its refusal (nothing was sent yet, so the caller answers with the error).
   */
  async release(authz: RequestAuthorizer, req: AuthzRequest): Promise<void> {
    const held = this.held;
    if (this.passed || !held) {
      // already on the wire: the plugin is told, it cannot stop it
      await authz.authorizeResponse(req, { status: 200, headers: {} }).catch(() => {});
      return;
    }
    this.held = undefined;
    const json = held.headers['Content-Type'] === 'application/json';
    await authz.authorizeResponse(req, { status: held.status, headers: held.headers, ...(json && held.body ? { body: held.body } : {}) });
    held.send();
  }

  /** Sends an error answer past the gate (handler errors are not put to the authorizer, as in moby). */
  get direct(): Reply {
    return this.inner;
  }
}

function flat(h: Headers): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
}
