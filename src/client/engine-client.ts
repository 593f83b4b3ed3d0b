/**
 * A typed Engine API client over node:http: version negotiation, JSON
 * calls, streamed bodies and hijacked (upgraded) connections.
 *
 *   const c = new EngineClient('unix:///run/berth.sock');
 *   await c.negotiate();
 *   const list = await c.get<ContainerSummary[]>('/containers/json', { all: 1 });
 */
import { Agent, request, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { API_VERSION, compareVersions } from '../api/version.js';
import { Conflict, Forbidden, InvalidParameter, NotFound, NotImplemented, NotModified, SystemError, Unauthorized, Unavailable, type BerthError } from '../errdefs/index.js';
import { parseHost, type DaemonAddress } from './host.js';

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
  const code = `api.http_${status}`;
  switch (status) {
    case 304: return new NotModified(code, message);
    case 400: return new InvalidParameter(code, message);
    case 401: return new Unauthorized(code, message);
    case 403: return new Forbidden(code, message);
    case 404: return new NotFound(code, message);
    case 409: return new Conflict(code, message);
    case 501: return new NotImplemented(code, message);
    case 503: return new Unavailable(code, message);
    default: return new SystemError(code, message);
  }
}

export class DaemonUnreachableError extends SystemError {}

/** An image reference as an API path segment: slashes stay, each part is escaped (`/images/{name}/json`). */
export function imagePath(ref: string): string {
  return ref.split('/').map(encodeURIComponent).join('/');
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
      message = (JSON.parse(body) as { message?: string }).message ?? message;
    } catch {
      // not JSON after all: show it raw
    }
  }
  return apiError(res.statusCode ?? 500, message || `HTTP ${res.statusCode}`);
}

export class EngineClient {
  readonly address: DaemonAddress;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  version = API_VERSION;

  constructor(readonly host: string) {
    this.address = parseHost(host);
  }

  private options(method: string, path: string, headers: Record<string, string>): RequestOptions {
    const base: RequestOptions = { method, path, headers: { 'User-Agent': 'berth-cli', ...headers }, agent: this.agent };
    if (this.address.kind === 'unix') return { ...base, socketPath: this.address.socketPath, host: 'berth' };
    return { ...base, host: this.address.host, port: this.address.port };
  }

  private url(path: string, q?: Query): string {
    return `/v${this.version}${path}${encodeQuery(q)}`;
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
    return new Promise((resolve, reject) => {
      const req = request(this.options(method, url, headers), resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES') {
          reject(new DaemonUnreachableError('client.unreachable', `Cannot connect to the berth daemon at ${this.host}. Is the daemon running?`));
        } else reject(err);
      });
      if (o.stream) o.stream.pipe(req);
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
      const opts = this.options('POST', this.url(path, o.query), headers);
      delete opts.agent; // an upgraded socket never goes back to a pool
      const req = request(opts);
      req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
        // the socket still flows for the HTTP parser: hold everything (even EOF) until the caller listens
        socket.pause();
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        void errorFrom(res).then(reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(new DaemonUnreachableError('client.unreachable', `Cannot connect to the berth daemon at ${this.host}. Is the daemon running?`));
        } else reject(err);
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
