/**
 * The Engine API over node:http: version prefix, the headers moby's
 * middleware adds to every response, routing, and the one place where a
 * thrown error becomes an HTTP status and a `{"message": ...}` body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import { asBerthError, httpStatusOf, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { API_VERSION, MIN_API_VERSION, compareVersions } from '../../api/version.js';
import type { Logger } from '../../lib/logger.js';
import { Request, type Handler } from './request.js';
import { ResponseReply, UpgradeReply, type Headers, type Reply } from './reply.js';
import type { Router } from './router.js';

const VERSION_PREFIX = /^\/v([0-9]+(?:\.[0-9]+)*)(\/.*)$/;

export interface ApiServerOptions {
  router: Router<Handler>;
  engineVersion: string;
  log: Logger;
}

export class ApiServer {
  private readonly servers: Server[] = [];
  private readonly common: Headers;

  constructor(private readonly opts: ApiServerOptions) {
    this.common = {
      'Api-Version': API_VERSION,
      'Docker-Experimental': 'false',
      Ostype: 'linux',
      Server: `Docker/${opts.engineVersion} (linux)`,
    };
  }

  /** Listens on `unix:///path` or `tcp://host:port`. */
  async listen(host: string): Promise<void> {
    const server = createServer({ requestTimeout: 0 }, (req, res) => void this.handle(req, new ResponseReply(res, this.common), res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => {});
      // hold client bytes (stdin sent right after the upgrade) until a handler reads them
      socket.pause();
      void readUpgradeBody(req, socket, head).then(
        (body) => this.handle(req, new UpgradeReply(socket, this.common), undefined, body),
        () => socket.destroy(),
      );
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    const url = new URL(host);
    if (url.protocol === 'unix:') {
      const path = url.pathname;
      await rm(path, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
      await chmod(path, 0o660);
    } else if (url.protocol === 'tcp:') {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(url.port || 2375), url.hostname, () => resolve());
      });
    } else {
      throw new InvalidParameter('daemon.invalid_host', `invalid host "${host}": use unix:///path or tcp://host:port`);
    }
    this.servers.push(server);
    this.opts.log.info('API listening', { host });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      })),
    );
  }

  private async handle(raw: IncomingMessage, reply: Reply, res?: ServerResponse, upgradeBody?: Buffer): Promise<void> {
    const started = performance.now();
    const url = new URL(raw.url ?? '/', 'http://berth');
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
      await match.handler(new Request(raw, match.params, url.searchParams, version, upgradeBody), reply);
    } catch (err) {
      this.fail(reply, err, raw, path);
    }
    if (res && this.opts.log.enabled('debug')) {
      res.once('finish', () => this.opts.log.debug('request', { method: raw.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }));
    }
  }

  private fail(reply: Reply, err: unknown, raw: IncomingMessage, path: string): void {
    const e = asBerthError(err);
    const status = httpStatusOf(e);
    if (status >= 500) this.opts.log.error('request failed', { method: raw.method, path, error: e.message });
    else this.opts.log.debug('request error', { method: raw.method, path, status, error: e.message });
    if (reply.sent) {
      reply.abort();
      return;
    }
    if (status === 304) reply.empty(304);
    else reply.json(status, { message: e.message });
  }
}

/**
 * Node hands an upgraded request over with its body unread: the bytes after
 * the headers (`head`, then the socket) start with `Content-Length` bytes of
 * body (exec start's JSON), followed by the client's stream.
 */
function readUpgradeBody(req: IncomingMessage, socket: Socket, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  let buf = head;
  if (!(length > 0)) {
    if (buf.length) socket.unshift(buf);
    return Promise.resolve(Buffer.alloc(0));
  }
  if (length > 1 << 20) return Promise.reject(new Error('upgrade request body too large'));
  return new Promise((resolve, reject) => {
    const done = () => {
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
    const onEnd = () => reject(new Error('connection closed inside the request body'));
    if (buf.length >= length) return done();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  });
}
