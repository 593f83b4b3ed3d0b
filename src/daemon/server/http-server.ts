/**
 * The Engine API over node:http: version prefix, the headers moby's
 * middleware adds to every response, routing, and the one place where a
 * thrown error becomes an HTTP status and a `{"message": ...}` body.
 *
 * Listeners: `unix:///path` (0660, owned by the socket group), `tcp://addr:port`
 * (HTTPS with the daemon's TLS settings when it has them), each with the
 * request limits of transport/limits.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { asBerthError, httpStatusOf, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { API_VERSION, MIN_API_VERSION, compareVersions } from '../../api/version.js';
import type { Logger } from '../../lib/logger.js';
import { Request, type Handler } from './request.js';
import { ResponseReply, UpgradeReply, type Headers, type Reply } from './reply.js';
import type { Router } from './router.js';
import { ByteBudget, DEFAULT_LIMITS, guardRequestBody, type ApiLimits } from './transport/limits.js';
import { parseDaemonHost } from './transport/plan.js';
import type { ServerTls } from './transport/prepare.js';
import { listenUnix } from './transport/unix-socket.js';
import { summarize, tracer } from '../../lib/spans.js';
import { httpDateNow } from '../../lib/utc-text.js';
import { describeRequest, GatedReply, type RequestAuthorizer } from './authz-gate.js';

const VERSION_PREFIX = /^\/v([0-9]+(?:\.[0-9]+)*)(\/.*)$/;

export interface ApiServerOptions {
  router: Router<Handler>;
  engineVersion: string;
  log: Logger;
  /** TLS for TCP listeners (none: plain HTTP; see transport/plan.ts for when that is allowed). */
  tls?: ServerTls;
  /** Group owning unix sockets (default: the daemon's own group). */
  socketGid?: number;
  limits?: Partial<ApiLimits>;
  /** Authorization plugins (dockerd's --authorization-plugin): asked about every routed request and its answer. */
  authorizer?: RequestAuthorizer;
  /** Told of every request (the daemon's idle memory reclaim watches for quiet). */
  onRequest?: () => void;
}

export class ApiServer {
  private readonly servers: Server[] = [];
  private readonly socketPaths: string[] = [];
  private readonly common: Headers;
  private readonly limits: ApiLimits;
  private readonly jsonBudget: ByteBudget;

  constructor(private readonly opts: ApiServerOptions) {
    this.common = {
      'Api-Version': API_VERSION,
      'Docker-Experimental': 'false',
      Ostype: 'linux',
      Server: `Docker/${opts.engineVersion} (linux)`,
    };
    this.limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
    this.jsonBudget = new ByteBudget(this.limits.jsonBudget);
  }

  /** Listens on `unix:///path` or `tcp://host:port` (HTTPS when the server has TLS settings). */
  async listen(host: string): Promise<void> {
    const spec = parseDaemonHost(host);
    const server = this.createServer(spec.kind === 'tcp' ? this.opts.tls : undefined);
    if (spec.kind === 'unix') {
      await listenUnix(server, spec.path, this.opts.socketGid ?? process.getgid?.() ?? 0);
      this.socketPaths.push(spec.path);
    } else {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(spec.port, spec.address, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    this.servers.push(server);
    const tls = spec.kind === 'tcp' && this.opts.tls ? (this.opts.tls.verify ? 'mutual' : 'server-only') : undefined;
    this.opts.log.info('API listening', { host: spec.host, ...(tls ? { tls } : {}) });
  }

  private createServer(tls: ServerTls | undefined): Server {
    const l = this.limits;
    const httpOptions: ServerOptions = {
      maxHeaderSize: l.maxHeaderSize,
      // whole-request timing is ours (guardRequestBody): node's would also cut streamed uploads
      requestTimeout: 0,
      headersTimeout: l.headersTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(250, Math.min(5_000, l.headersTimeoutMs / 4)),
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      // node's own Date header goes through Date#toUTCString, which loads ICU's time zone names (utc-text.ts)
      res.sendDate = false;
      res.setHeader('Date', httpDateNow());
      guardRequestBody(req, res, l.bodyTimeoutMs);
      void this.handle(req, new ResponseReply(res, this.common), res);
    };
    // https loads only for a TLS listener: idle memory otherwise (issue 18)
    const server: Server = tls
      ? process.getBuiltinModule('node:https').createServer({
          ...httpOptions,
          key: tls.key,
          cert: tls.cert,
          ...(tls.verify ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
          minVersion: 'TLSv1.2',
          handshakeTimeout: l.tlsHandshakeTimeoutMs,
          // as over plain HTTP: a client that half-closes a hijacked stream (no stdin: Go sends
          // close_notify) still gets the container's output
          allowHalfOpen: true,
        }, onRequest)
      : createServer(httpOptions, onRequest);
    server.maxConnections = l.maxConnections;
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => {});
      // hold client bytes (stdin sent right after the upgrade) until a handler reads them
      socket.pause();
      void readUpgradeBody(req, socket, head, l.bodyTimeoutMs).then(
        (body) => this.handle(req, new UpgradeReply(socket, this.common), undefined, body),
        () => socket.destroy(),
      );
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket));
    // debug, not warn: anyone who reaches the port could fill the log otherwise
    server.on('tlsClientError', (err: Error, socket: Socket) => this.opts.log.debug('TLS handshake refused', { remote: socket.remoteAddress, error: err.message }));
    return server;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      })),
    );
    // the sockets were renamed into place, so the server does not unlink them itself
    await Promise.all(this.socketPaths.map((p) => rm(p, { force: true })));
  }

  private handle(raw: IncomingMessage, reply: Reply, res?: ServerResponse, upgradeBody?: Buffer): Promise<void> {
    this.opts.onRequest?.();
    if (!tracer.enabled) return this.handleRequest(raw, reply, res, upgradeBody);
    const name = `${raw.method ?? 'GET'} ${splitUrl(raw.url ?? '/').pathname}`;
    return tracer.trace(name, () => this.handleRequest(raw, reply, res, upgradeBody), (t) => {
      t.status = res?.statusCode;
      this.opts.log.debug('request spans', { request: name, spans: summarize(t) });
    });
  }

  private async handleRequest(raw: IncomingMessage, reply: Reply, res?: ServerResponse, upgradeBody?: Buffer): Promise<void> {
    const started = process.hrtime.bigint(); // not performance.now(): see logs/entry.ts
    const url = splitUrl(raw.url ?? '/');
    let path = url.pathname;
    let version = API_VERSION;
    try {
      const m = VERSION_PREFIX.exec(path);
      if (m) {
        version = m[1]!;
        path = m[2]!;
        if (compareVersions(version, API_VERSION) > 0) {
          throw new InvalidParameter('api.version_too_new', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
        }
        if (compareVersions(version, MIN_API_VERSION) < 0) {
          throw new InvalidParameter('api.version_too_old', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
        }
      }
      const match = this.opts.router.match(raw.method ?? 'GET', path);
      if (!match) throw new NotFound('api.page_not_found', 'page not found');
      const limits = { maxJsonBody: this.limits.maxJsonBody, budget: this.jsonBudget, maxUpload: this.limits.maxUpload };
      const authz = this.opts.authorizer;
      if (!authz) {
        await match.handler(new Request(raw, match.params, url.searchParams, version, upgradeBody, limits), reply);
      } else {
        const asked = await describeRequest(raw, upgradeBody, this.jsonBudget);
        try {
          await authz.authorizeRequest(asked);
          const gated = new GatedReply(reply);
          // a JSON body the plugin was shown has been read: the handler gets those bytes
          await match.handler(new Request(raw, match.params, url.searchParams, version, asked.body ?? upgradeBody, limits), gated);
          await gated.release(authz, asked);
        } finally {
          if (asked.body && !upgradeBody) this.jsonBudget.give(asked.body.length);
        }
      }
    } catch (err) {
      this.fail(reply, err, raw, path);
    }
    if (res && this.opts.log.enabled('debug')) {
      res.once('finish', () => this.opts.log.debug('request', { method: raw.method, path, status: res.statusCode, ms: Number((process.hrtime.bigint() - started) / 1_000_000n) }));
    }
  }

  private fail(reply: Reply, err: unknown, raw: IncomingMessage, path: string): void {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || raw.socket?.destroyed) {
      // the client left in the middle of its request: nothing failed on our side, and no one to answer
      this.opts.log.debug('client went away', { method: raw.method, path });
      reply.abort();
      return;
    }
    const e = asBerthError(err);
    const status = httpStatusOf(e);
    if (status >= 500) this.opts.log.error('request failed', { method: raw.method, path, error: err instanceof Error ? err.message : e.message });
    else this.opts.log.debug('request error', { method: raw.method, path, status, error: e.message });
    if (reply.sent) {
      reply.abort();
      return;
    }
    // answering before the body was read: a body over a size limit is not read any further (the
    // connection closes after the answer); any other (a bad archive, bad JSON, an unknown route) is
    // read and dropped for a while, so that the client can finish sending and read the answer (a
    // socket closed with unread bytes resets the connection: the client reports a broken pipe)
    const unread = bodyUnread(raw);
    const overLimit = unread && (e.code === 'request.body_too_large' || e.code === 'request.upload_too_large');
    if (unread && !overLimit) drainBriefly(raw);
    const close: Headers = overLimit ? { Connection: 'close' } : {};
    if (status === 304) reply.empty(304, close);
    else reply.json(status, { message: e.message }, close);
  }
}

/**
 * Node hands an upgraded request over with its body unread: the bytes after
 * the headers (`head`, then the socket) start with `Content-Length` bytes of
 * body (exec start's JSON), followed by the client's stream.
 */
function readUpgradeBody(req: IncomingMessage, socket: Socket, head: Buffer, timeoutMs: number): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  let buf = head;
  if (!(length > 0)) {
    if (buf.length) socket.unshift(buf);
    return Promise.resolve(Buffer.alloc(0));
  }
  if (length > 1 << 20) return Promise.reject(new Error('upgrade request body too large'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('request body not received in time')), timeoutMs);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      const body = buf.subarray(0, length);
      const rest = buf.subarray(length);
      if (rest.length) socket.unshift(rest);
      resolve(body);
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= length) done();
    };
    const onEnd = () => {
      clearTimeout(timer);
      reject(new Error('connection closed inside the request body'));
    };
    if (buf.length >= length) return done();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  });
}

/**
 * The path and query of a request target. WHATWG URL parsing costs a few
 * microseconds a request; plain targets (`/v1.47/containers/json?all=1`)
 * are split by hand, anything unusual (dot segments, `//`, absolute form)
 * still goes through `new URL` so its normalisation is unchanged.
 */
function splitUrl(target: string): { pathname: string; searchParams: URLSearchParams } {
  const q = target.indexOf('?');
  const pathname = q === -1 ? target : target.slice(0, q);
  if (pathname.startsWith('/') && !/\/\.|\/\/|[\\#]/.test(pathname) && /^[\x21-\x7e]*$/.test(pathname)) {
    return { pathname, searchParams: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)) };
  }
  const url = new URL(target, 'http://berth');
  return { pathname: url.pathname, searchParams: url.searchParams };
}

/**
 * A body answered early is read and dropped (the connection stays open for
 * the next request) for this long at most, then the connection goes: long
 * enough for a client that is still sending to finish and read the answer
 * (dropping bytes costs next to nothing); one that sends on and on is cut off.
 */
const DRAIN_MS = 5000;

function drainBriefly(raw: IncomingMessage): void {
  const timer = setTimeout(() => raw.socket?.destroy(), DRAIN_MS).unref();
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
}

function bodyUnread(raw: IncomingMessage): boolean {
  if (raw.complete) return false;
  const len = raw.headers['content-length'];
  return len !== undefined ? Number(len) > 0 : raw.headers['transfer-encoding'] !== undefined;
}

const CLIENT_ERROR_STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** A request node could not parse, too large or too slow: answer as Go's server does, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
    socket.destroy(); // an answer was under way: nothing sensible to add
    return;
  }
  const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`);
  setTimeout(() => socket.destroy(), 1_000).unref();
}
