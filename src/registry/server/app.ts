/**
 * berth-registry's HTTP side: the distribution spec's /v2/ routes over a
 * Registry, errors in the spec's body shape, access logs, /metrics and a
 * health check. Bodies stream in both directions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Access, Scope } from '../auth.js';
import { tokenUser, type TokenAccess } from '../token.js';
import { knownRegistryError, RegistryError } from '../errors.js';
import { checkDigest, checkName, checkReference, isReference } from '../params.js';
import type { Registry } from '../registry.js';
import { Metrics } from './metrics.js';
import { MediaType } from '../../oci/index.js';

export interface AppOptions {
  readOnly: boolean;
  access: Access;
  log: (fields: Record<string, unknown>) => void;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
  /** /metrics needs the API's credentials (a token: registry:catalog:*). */
  metricsAuth?: boolean;
  /** The built-in token endpoint (token auth): its path, the issuer, and who checks the Basic credentials sent to it. */
  tokenEndpoint?: { path: string; issuer: TokenAccess; basic?: Access };
}

type Handler = (req: IncomingMessage, res: ServerResponse, m: string[], url: URL) => Promise<void>;

const API_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' };

export function createRegistryServer(reg: Registry, o: AppOptions): Server {
  const handler = registryHandler(reg, o);
  return o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handler) : createServer(handler);
}

function registryHandler(reg: Registry, o: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const metrics = new Metrics();
  const routes: [string, RegExp, Handler][] = [
    ['GET', /^\/v2\/?$/, async (_q, res) => json(res, 200, {})],
    ['GET', /^\/v2\/_catalog$/, async (_q, res, _m, url) => {
      const page = paginate(await reg.catalog(), url, res, '/v2/_catalog');
      json(res, 200, { repositories: page });
    }],
    ['GET', /^\/v2\/(.+)\/tags\/list$/, async (_q, res, m, url) => {
      const name = repo(m[1]!);
      if (!(await reg.exists(name))) throw new RegistryError('NAME_UNKNOWN', undefined, { name });
      json(res, 200, { name, tags: paginate(await reg.tags(name), url, res, `/v2/${name}/tags/list`) });
    }],
    ['GET', /^\/v2\/(.+)\/manifests\/([^/]+)$/, async (req, res, m) => {
      const name = repo(m[1]!);
      // reading: a reference that cannot exist is simply unknown (the OCI conformance suite's rule)
      if (!isReference(m[2]!)) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { name, reference: m[2] });
      const man = await reg.getManifest(name, m[2]!);
      res.writeHead(200, { ...API_HEADER, 'Content-Type': man.mediaType, 'Content-Length': man.bytes.length, 'Docker-Content-Digest': man.digest, ETag: `"${man.digest}"` });
      res.end(req.method === 'HEAD' ? undefined : man.bytes);
    }],
    ['PUT', /^\/v2\/(.+)\/manifests\/([^/]+)$/, async (req, res, m) => {
      writable();
      const name = repo(m[1]!);
      checkReference(m[2]!);
      const bytes = await readLimited(req, reg.opts.maxManifestBytes);
      const { digest, subject } = await reg.putManifest(name, m[2]!, bytes, String(req.headers['content-type'] ?? ''));
      res.writeHead(201, { ...API_HEADER, Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0, ...(subject ? { 'OCI-Subject': subject } : {}) });
      res.end();
    }],
    ['DELETE', /^\/v2\/(.+)\/manifests\/([^/]+)$/, async (_q, res, m) => {
      writable();
      const name = repo(m[1]!);
      checkReference(m[2]!);
      await reg.deleteManifest(name, m[2]!);
      empty(res, 202);
    }],
    ['GET', /^\/v2\/(.+)\/referrers\/([^/]+)$/, async (_q, res, m, url) => {
      const name = repo(m[1]!);
      checkDigest(m[2]!);
      const artifactType = url.searchParams.get('artifactType') ?? undefined;
      const manifests = await reg.referrers(name, m[2]!, artifactType);
      res.writeHead(200, { ...API_HEADER, 'Content-Type': MediaType.OciIndex, ...(artifactType ? { 'OCI-Filters-Applied': 'artifactType' } : {}) });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
    }],
    ['POST', /^\/v2\/(.+)\/blobs\/uploads\/?$/, async (req, res, m, url) => {
      writable();
      const name = repo(m[1]!);
      const mount = url.searchParams.get('mount');
      if (mount) {
        checkDigest(mount);
        const from = url.searchParams.get('from');
        if (from) checkName(from);
        if (await mountBlob(reg, o.access, req.headers.authorization, name, mount, from)) {
          req.resume();
          res.writeHead(201, { ...API_HEADER, Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount, 'Content-Length': 0 });
          res.end();
          return;
        }
      }
      const uuid = await reg.uploads.start(name);
      const digest = url.searchParams.get('digest');
      if (digest) {
        // monolithic: the whole blob in this request
        checkDigest(digest);
        await reg.uploads.append(name, uuid, req, undefined, contentLength(req));
        await reg.commitUpload(name, uuid, digest);
        res.writeHead(201, { ...API_HEADER, Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 });
        res.end();
        return;
      }
      req.resume();
      uploadStatus(res, 202, name, uuid, 0);
    }],
    ['GET', /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, async (_q, res, m) => {
      const name = repo(m[1]!);
      uploadStatus(res, 204, name, m[2]!, await reg.uploads.size(name, m[2]!));
    }],
    ['PATCH', /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, async (req, res, m) => {
      writable();
      const name = repo(m[1]!);
      const range = contentRange(req);
      const size = await reg.appendUpload(name, m[2]!, req, range?.start, contentLength(req));
      if (range && size !== range.end + 1) throw new RegistryError('RANGE_INVALID', 'chunk length does not match Content-Range');
      uploadStatus(res, 202, name, m[2]!, size);
    }],
    ['PUT', /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, async (req, res, m, url) => {
      writable();
      const name = repo(m[1]!);
      const digest = url.searchParams.get('digest');
      if (!digest) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required');
      checkDigest(digest);
      const range = contentRange(req);
      await reg.finishUpload(name, m[2]!, digest, req, range?.start, contentLength(req));
      res.writeHead(201, { ...API_HEADER, Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 });
      res.end();
    }],
    ['DELETE', /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, async (_q, res, m) => {
      writable();
      await reg.cancelUpload(repo(m[1]!), m[2]!);
      empty(res, 204);
    }],
    ['GET', /^\/v2\/(.+)\/blobs\/([^/]+)$/, async (req, res, m) => {
      const name = repo(m[1]!);
      checkDigest(m[2]!);
      const size = await reg.blobSize(name, m[2]!);
      if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest: m[2] });
      const headers = { ...API_HEADER, 'Docker-Content-Digest': m[2]!, 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: `"${m[2]}"` };
      const range = byteRange(req.headers.range, size);
      if (req.method === 'HEAD') {
        res.writeHead(200, { ...headers, 'Content-Length': size });
        res.end();
        return;
      }
      if (range) {
        res.writeHead(206, { ...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${size}` });
        const body = await reg.readBlob(m[2]!, range.start);
        await pipeline(body, limitTo(range.end - range.start + 1), res);
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Length': size });
      await pipeline(await reg.readBlob(m[2]!), res);
    }],
    ['DELETE', /^\/v2\/(.+)\/blobs\/([^/]+)$/, async (_q, res, m) => {
      writable();
      const name = repo(m[1]!);
      checkDigest(m[2]!);
      await reg.deleteBlob(name, m[2]!);
      empty(res, 202);
    }],
  ];

  function writable(): void {
    if (o.readOnly) throw new RegistryError('UNSUPPORTED', 'the registry is in read-only mode');
  }

  return (req, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://registry');
    const remote = req.socket.remoteAddress; // the socket is gone by 'finish' when the client hung up
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(req.method ?? '', res.statusCode, seconds, Number(res.getHeader('content-length') ?? 0));
      o.log({ method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(seconds * 1000), remote });
    });
    if (url.pathname === '/metrics' && req.method === 'GET') {
      const allowed = o.metricsAuth ? o.access.check(req.headers.authorization, CATALOG) : Promise.resolve('');
      allowed.then(() => {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(metrics.text());
      }, (err: unknown) => fail(req, res, err));
      return;
    }
    if (url.pathname === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const te = o.tokenEndpoint;
    if (te && url.pathname === te.path && req.method === 'GET') {
      tokenUser(req, te.basic).then((user) => te.issuer.issue(res, url, user), () => {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
      }).catch((err: unknown) => {
        const e = asRegistryError(err, o);
        res.writeHead(e.status, { 'Content-Type': 'application/json' }).end(e.body());
      });
      return;
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let handler: Handler | undefined;
    let match: string[] = [];
    let pathMatched = false;
    // routes match the raw path: URL parsing would resolve `a/../b` into another repository's name
    const path = (req.url ?? '/').split('?')[0]!;
    for (const [mth, re, h] of routes) {
      const m = re.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (mth === method) {
        handler = h;
        match = [...m];
        break;
      }
    }
    const run = async () => {
      await o.access.check(req.headers.authorization, scopeOf(req.method ?? 'GET', path, match[1]));
      if (!handler) throw pathMatched ? new RegistryError('UNSUPPORTED', `method ${req.method} not allowed`) : new RegistryError('NAME_UNKNOWN', 'no such route');
      await handler(req, res, match.map((s, i) => (i === 0 ? s : decodeURIComponent(s))), url);
    };
    run().catch((err: unknown) => fail(req, res, err));
  };

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    req.resume();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const e = asRegistryError(err, o);
    const wanted = e.challenge ?? o.access.challenge;
    const challenge = e.code === 'UNAUTHORIZED' && wanted ? { 'WWW-Authenticate': wanted } : {};
    res.writeHead(e.status, { ...API_HEADER, ...challenge, 'Content-Type': 'application/json' });
    res.end(req.method === 'HEAD' ? undefined : e.body());
  }
}

const CATALOG: Scope = { type: 'registry', name: 'catalog', actions: ['*'] };

/**
 * A cross-repository mount, if the client may read the blob where it is:
 * with `from`, pull on `from`; without (the spec's anonymous mount), any
 * blob when there is no auth, else only one the repository has already
 * (which other repositories the client may pull cannot be listed). False:
 * the caller starts an ordinary upload (202), as the spec allows.
 */
async function mountBlob(reg: Registry, access: Access, authorization: string | undefined, name: string, digest: string, from: string | null): Promise<boolean> {
  if (from) return (await access.allows(authorization, { type: 'repository', name: from, actions: ['pull'] })) && reg.mount(name, from, digest);
  if (access.open) return reg.mountAnonymous(name, digest);
  return (await reg.blobSize(name, digest)) !== undefined;
}

/**
 * The access a request needs, for token auth, as distribution asks it: pull
 * to read a repository, pull and push to write to it, delete for any DELETE
 * (manifests, blobs and upload cancels alike), the catalog.
 */
function scopeOf(method: string, path: string, name: string | undefined): Scope | undefined {
  if (path.startsWith('/v2/_catalog')) return CATALOG;
  if (!name) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    return undefined; // the route reports the bad name
  }
  const actions = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push'];
  return { type: 'repository', name: decoded, actions };
}

/** The error to answer with; a failure of the registry's own is logged and answered UNKNOWN (500), its message kept from the client. */
function asRegistryError(err: unknown, o: AppOptions): RegistryError {
  const known = knownRegistryError(err);
  if (known) return known;
  o.log({ error: (err as Error).message });
  return new RegistryError('UNKNOWN');
}

function repo(name: string): string {
  checkName(name);
  return name;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...API_HEADER, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function empty(res: ServerResponse, status: number): void {
  res.writeHead(status, { ...API_HEADER, 'Content-Length': 0 });
  res.end();
}

function uploadStatus(res: ServerResponse, status: number, name: string, uuid: string, size: number): void {
  res.writeHead(status, {
    ...API_HEADER, Location: `/v2/${name}/blobs/uploads/${uuid}`, 'Docker-Upload-UUID': uuid,
    Range: `0-${Math.max(0, size - 1)}`, 'Content-Length': 0,
  });
  res.end();
}

/** `n` and `last` pagination with a `Link` header for the next page (spec: tags and catalog). */
function paginate(all: string[], url: URL, res: ServerResponse, path: string): string[] {
  const last = url.searchParams.get('last');
  const nParam = url.searchParams.get('n');
  let items = last ? all.filter((t) => t > last) : all;
  if (nParam !== null) {
    const n = Number(nParam);
    if (!Number.isInteger(n) || n < 0) throw new RegistryError('UNSUPPORTED', `invalid n: ${nParam}`, undefined, 'invalid_parameter');
    if (items.length > n) {
      items = items.slice(0, n);
      if (n > 0) res.setHeader('Link', `<${path}?n=${n}&last=${encodeURIComponent(items.at(-1)!)}>; rel="next"`);
    }
  }
  return items;
}

function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  return v === undefined ? undefined : Number(v);
}

function contentRange(req: IncomingMessage): { start: number; end: number } | undefined {
  const v = req.headers['content-range'];
  if (!v) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(v.trim());
  if (!m || Number(m[2]) < Number(m[1])) throw new RegistryError('RANGE_INVALID', `invalid Content-Range ${v}`);
  return { start: Number(m[1]), end: Number(m[2]) };
}

function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (start >= size || end < start) throw new RegistryError('RANGE_INVALID', `range ${header} outside the blob's ${size} bytes`);
  return { start, end };
}

/** Passes at most `n` bytes. */
function limitTo(n: number): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (source) {
    let left = n;
    for await (const chunk of source) {
      if (left <= 0) break;
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      yield part;
    }
  };
}

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      req.resume();
      throw new RegistryError('SIZE_INVALID', `manifest is larger than ${limit} bytes`, undefined, 'too_large');
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
