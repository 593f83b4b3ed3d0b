/**
 * A typed Engine API client over node:http: version negotiation, JSON
 * calls, streamed bodies and hijacked (upgraded) connections.
 *
 *   const c = new EngineClient('unix:///run/berth.sock');
 *   await c.negotiate();
 *   const list = await c.get<ContainerSummary[]>('/containers/json', { all: 1 });
 */
import type { IncomingMessage, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { API_VERSION, compareVersions } from '../api/version.js';
import { errorOfKind, kindOfHttpStatus, SystemError, type BerthError } from '../errdefs/index.js';
import { CommandConnError } from './command-conn.js';
import { parseHost, type DaemonAddress } from './host.js';
import { Transport, type TransportOptions } from './transport.js';

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface CallOptions {
  query?: Query;
  body?: unknown;
  /** A raw body stream (tar archives) instead of JSON. */
  stream?: Readable;
  headers?: Record<string, string>;
}

/** An error the daemon answered with; its class follows the HTTP status. */
export function apiError(status: number, message: string): BerthError {
  return errorOfKind(kindOfHttpStatus(status), `api.http_${status}`, message);
}

export class DaemonUnreachableError extends SystemError {}

/** How a reused keep-alive connection fails when the daemon closed it first. */
const RESET_ON_REUSE = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED']);
/** One per pooled connection that may have gone stale, then a fresh one. */
const MAX_REUSE_RETRIES = 8;

/** An image reference as an API path segment: slashes stay, each part is escaped (`/images/{name}/json`). */
export function imagePath(ref: string): string {
  return ref.split('/').map(encodeURIComponent).join('/');
}

/** What a failed connection means for the user: the daemon is not there, or the connection itself failed (TLS, ssh). */
function connectError(host: string, err: NodeJS.ErrnoException, what: string): Error {
  if (err instanceof CommandConnError) return new DaemonUnreachableError('client.unreachable', err.message);
  if (err.code === 'EACCES') {
    // docker's wording: the socket is there, the user is not in its group
    return new DaemonUnreachableError('client.unreachable', `permission denied while trying to connect to the berth daemon socket at ${host}: ${what}: ${err.message}`);
  }
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return new DaemonUnreachableError('client.unreachable', `Cannot connect to the berth daemon at ${host}. Is the daemon running?`);
  }
  return new DaemonUnreachableError('client.connect_failed', `error during connect: ${what}: ${tlsReason(err) ?? err.message}`);
}

/** OpenSSL's alert codes read as Go's TLS errors do (`remote error: tls: certificate required`). */
function tlsReason(err: NodeJS.ErrnoException): string | undefined {
  const alert = /^ERR_SSL_(?:TLSV13|TLSV1|SSLV3)_ALERT_(.+)$/.exec(err.code ?? '');
  return alert ? `remote error: tls: ${alert[1]!.toLowerCase().replace(/_/g, ' ')}` : undefined;
}

function encodeQuery(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) p.append(k, item);
    else p.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

async function readBody(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function errorFrom(res: IncomingMessage): Promise<BerthError> {
  const body = (await readBody(res)).toString('utf8');
  let message = body.trim();
  if ((res.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      message = ((JSON.parse(body) as { message?: string }).message ?? message).trim(); // docker's client trims it too
    } catch {
      // not JSON after all: show it raw
    }
  }
  return apiError(res.statusCode ?? 500, message || `HTTP ${res.statusCode}`);
}

export class EngineClient {
  readonly address: DaemonAddress;
  private readonly transport: Transport;
  version = API_VERSION;

  /** `opts`: TLS for tcp:// hosts, the ssh program for ssh:// hosts. */
  constructor(readonly host: string, opts: TransportOptions = {}) {
    this.address = parseHost(host);
    this.transport = new Transport(this.address, opts);
  }

  private options(method: string, path: string, headers: Record<string, string>, pooled = true): RequestOptions {
    return this.transport.options(method, path, { 'User-Agent': 'berth-cli', ...headers }, pooled);
  }

  private describe(method: string, url: string): string {
    const a = this.address;
    const base = a.kind === 'tcp' ? `${this.transport.secure ? 'https' : 'http'}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` : `http://${a.kind === 'ssh' ? 'docker.example.com' : '%2F' + encodeURIComponent(a.socketPath.slice(1))}`;
    return `${method[0]}${method.slice(1).toLowerCase()} "${base}${url}"`;
  }

  private url(path: string, q?: Query): string {
    return `/v${this.version}${path}${encodeQuery(q)}`;
  }

  /** A raw connection to the daemon's API (what `system dial-stdio` relays). */
  async dial(): Promise<Duplex> {
    try {
      return await this.transport.dial();
    } catch (err) {
      throw connectError(this.host, err as NodeJS.ErrnoException, `dial ${this.host}`);
    }
  }

  /** HEAD /_ping; adopts the daemon's API version when it is lower than ours. */
  async negotiate(): Promise<void> {
    const res = await this.raw('HEAD', '/_ping', {});
    res.resume();
    const v = res.headers['api-version'];
    if (typeof v === 'string' && compareVersions(v, API_VERSION) < 0) this.version = v;
  }

  /** Sends a request; resolves with the response whatever its status. */
  raw(method: string, url: string, o: CallOptions): Promise<IncomingMessage> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    let payload: string | undefined;
    if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return this.send(method, url, headers, payload, o.stream, MAX_REUSE_RETRIES);
  }

  private send(method: string, url: string, headers: Record<string, string>, payload: string | undefined, stream: Readable | undefined, retries: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.transport.request(this.options(method, url, headers), resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        // a pooled connection the daemon closed as idle just as we picked it: the request never
        // reached it, so send it again (Go's transport does the same); a streamed body is spent
        if (req.reusedSocket && !stream && retries > 0 && RESET_ON_REUSE.has(err.code ?? '')) {
          resolve(this.send(method, url, headers, payload, stream, retries - 1));
          return;
        }
        reject(connectError(this.host, err, this.describe(method, url)));
      });
      if (stream) stream.pipe(req);
      else req.end(payload);
    });
  }

  /** A versioned call; non-2xx answers become typed errors. */
  async call(method: string, path: string, o: CallOptions = {}): Promise<IncomingMessage> {
    const res = await this.raw(method, this.url(path, o.query), o);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    if (status === 304) {
      res.resume();
      throw apiError(304, 'not modified');
    }
    throw await errorFrom(res);
  }

  async json<T>(method: string, path: string, o: CallOptions = {}): Promise<T> {
    const res = await this.call(method, path, o);
    const body = (await readBody(res)).toString('utf8');
    return (body.trim() ? JSON.parse(body) : undefined) as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, query ? { query } : {});
  }

  async post(path: string, o: CallOptions = {}): Promise<void> {
    const res = await this.call('POST', path, o);
    res.resume();
  }

  async delete(path: string, query?: Query): Promise<void> {
    const res = await this.call('DELETE', path, query ? { query } : {});
    res.resume();
  }

  /**
   * An upgraded connection (attach, exec start): raw bytes both ways after
   * `101 UPGRADED`. Errors before the upgrade come back as typed errors.
   * The socket is returned paused: call `resume()` once listening.
   */
  hijack(path: string, o: CallOptions = {}): Promise<Socket> {
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp', ...(o.headers ?? {}) };
    let payload = '';
    if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers['Content-Type'] = 'application/json';
    }
    headers['Content-Length'] = String(Buffer.byteLength(payload));
    return new Promise((resolve, reject) => {
      const url = this.url(path, o.query);
      const req = this.transport.request(this.options('POST', url, headers, false)); // an upgraded socket never goes back to a pool
      req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
        // the socket still flows for the HTTP parser: hold everything (even EOF) until the caller listens
        socket.pause();
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        void errorFrom(res).then(reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(connectError(this.host, err, this.describe('POST', url))));
      req.end(payload);
    });
  }

  close(): void {
    this.transport.close();
  }
}
