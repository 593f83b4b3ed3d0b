/**
 * Random and mutated Engine API requests for the fuzz test: every route of
 * the daemon's route table (found by registering the route modules on a
 * recording router), with mutated path parameters, version prefixes, query
 * strings, bodies, content types and heads, plus garbage on the wire.
 * Seeded, so a failing run can be replayed with BERTH_FUZZ_SEED.
 *
 * Nothing generated can make the daemon reach the network: pulls, URL
 * imports and registry routes only ever name 127.0.0.1:1 (nothing listens).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Route {
  method: string;
  pattern: string;
}

/** Every route the daemon registers, from the compiled route modules. */
export async function discoverRoutes(routesDir: string): Promise<Route[]> {
  const routes: Route[] = [];
  const recorder = { add: (method: string, pattern: string) => (routes.push({ method, pattern }), recorder) };
  const backend = new Proxy({}, { get: () => () => undefined });
  for (const dir of readdirSync(routesDir)) {
    const mod = (await import(pathToFileURL(join(routesDir, dir, 'routes.js')).href)) as Record<string, unknown>;
    for (const [name, fn] of Object.entries(mod)) {
      if (typeof fn === 'function' && name.endsWith('Routes')) (fn as (...a: unknown[]) => void)(recorder, backend, backend, backend, backend);
    }
  }
  return routes;
}

/** mulberry32: small, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  hex(n: number): string {
    return Array.from({ length: n }, () => '0123456789abcdef'[this.int(16)]).join('');
  }
}

/** The ids and names the requests use: real ones (kept alive by the test) and hostile ones. */
export interface Targets {
  containerId: string;
  containerName: string;
  image: string;
  /** A small valid tar, mutated into import bodies. */
  tar: Buffer;
}

const NETWORK_ROUTE = /auth|push|pull|distribution|build|plugin|search|swarm|session/;
const VERSION_PREFIXES = ['', '/v1.47', '/v1.44', '/v1.41', '/v1.24', '/v1.12', '/v9.99', '/vx.y', '/v1'];
const QUERY_KEYS = ['all', 'size', 'filters', 'since', 'until', 'tail', 'follow', 'stream', 'stdout', 'stderr', 'stdin', 'timestamps', 't',
  'signal', 'name', 'force', 'v', 'link', 'condition', 'detachKeys', 'logs', 'ps_args', 'h', 'w', 'repo', 'tag', 'changes', 'message',
  'noprune', 'dangling', 'limit', 'before', 'digests', 'one-shot', 'platform', 'fromSrc'];
const QUERY_VALUES = ['', '1', '0', 'true', 'false', '-1', '99999999999999999999', '1.5', '{"x":', '{"status":["running"]}', '{"label":{"a=b":true}}',
  '[]', 'SIGKILL', 'SIGNOPE', '9', 'ctrl-p,ctrl-q', 'ctrl-', 'next-exit', 'removed', '2006-01-02T15:04:05Z', '%ZZ', '\u0000', '\u00e9\u4e2d',
  'a'.repeat(3000), '../../etc/passwd', 'CMD ["x"]', 'ENV =', 'linux/amd64'];
const WEIRD_IDS = ['nonexistent', '..', '%2e%2e', '%2F', 'a'.repeat(400), '%00', 'x%20y', '%E9', '%ZZ', '-', '*', 'sha256:', 'sha256:' + 'f'.repeat(64)];
const WEIRD_REFS = ['nonexistent:latest', 'UPPER/case', 'a/b/c/d:tag@sha256:' + '0'.repeat(64), 'localhost:99999/x', ':tag', '@sha256:xyz', 'x'.repeat(300)];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-tar', 'application/octet-stream', '', 'application/jsonx'];

export interface FuzzRequest {
  kind: 'http';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send only part of the body, then close (the daemon must cope, no answer needed). */
  truncate?: boolean;
  route: string;
}

export interface FuzzRaw {
  kind: 'raw';
  bytes: Buffer;
  /** Close right after sending (no answer needed). */
  abort: boolean;
  route: string;
}

function mutateJson(g: Gen, v: unknown, depth = 0): unknown {
  if (depth > 4) return v;
  if (Array.isArray(v)) return g.chance(0.2) ? g.pick([null, 'x', 42, {}]) : v.map((x) => mutateJson(g, x, depth + 1));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!g.chance(0.15)) o[k] = mutateJson(g, x, depth + 1);
    if (g.chance(0.3)) o[g.pick(['HostConfig', 'Cmd', 'Env', 'Labels', 'Tty', 'User', 'WorkingDir', 'ExposedPorts', 'Healthcheck', 'Entrypoint', 'x'])] = g.pick([null, 1, -1, 'str', [], {}, [1, 'a'], { a: { b: [] } }, 'a'.repeat(10_000), 1e308, true]);
    return o;
  }
  if (g.chance(0.3)) return g.pick([null, 0, -1, '', 'x'.repeat(5000), [], {}, true, 1.5, '\u0000', 2 ** 53 + 1]);
  return v;
}

function templateFor(pattern: string): unknown {
  if (pattern === '/containers/create') return { Image: 'busybox', Cmd: ['true'], HostConfig: {} };
  if (pattern.endsWith('/exec')) return { Cmd: ['true'], AttachStdout: true };
  if (pattern.endsWith('/start') && pattern.startsWith('/exec')) return { Detach: true, Tty: false };
  if (pattern.endsWith('/update')) return { Memory: 0, RestartPolicy: { Name: 'no' } };
  return {};
}

function body(g: Gen, pattern: string): { body?: Buffer; contentType?: string } {
  switch (g.int(8)) {
    case 0:
      return {};
    case 1:
    case 2:
      return { body: Buffer.from(JSON.stringify(templateFor(pattern))), contentType: 'application/json' };
    case 3:
    case 4:
      return { body: Buffer.from(JSON.stringify(mutateJson(g, templateFor(pattern)))), contentType: g.pick(CONTENT_TYPES) };
    case 5: {
      const text = JSON.stringify(templateFor(pattern));
      return { body: Buffer.from(text.slice(0, g.int(text.length))), contentType: 'application/json' }; // malformed
    }
    case 6:
      return g.chance(0.5) ? { body: Buffer.from('['.repeat(5000) + ']'.repeat(5000)), contentType: 'application/json' } : { body: g.bytes(g.int(4096)), contentType: g.pick(CONTENT_TYPES) };
    default:
      return g.chance(0.04) ? { body: Buffer.alloc(9 << 20, 0x61), contentType: 'application/json' } : { body: Buffer.from('{}'), contentType: g.pick(CONTENT_TYPES) };
  }
}

function fillPath(g: Gen, pattern: string, t: Targets, network: boolean): string {
  return pattern.split('/').map((seg) => {
    if (!seg.startsWith(':')) return seg;
    if (network) return encodeURIComponent('127.0.0.1:1/fuzz');
    if (seg.endsWith('+')) return g.pick([t.image, t.image, ...WEIRD_REFS, 'busybox']).split('/').map(encodeURIComponent).join('/');
    return g.chance(0.5) ? g.pick([t.containerId, t.containerName, t.containerId.slice(0, 12)]) : encodeURIComponent(g.pick(WEIRD_IDS)).replace(/%25/g, '%');
  }).join('/');
}

function query(g: Gen, network: boolean): string {
  if (network) return '';
  const p: string[] = [];
  for (let i = g.int(5); i > 0; i--) {
    const key = g.pick(QUERY_KEYS);
    const value = key === 'fromSrc' ? '-' : key === 't' ? g.pick(['0', '1', '-1', 'abc']) : g.pick(QUERY_VALUES);
    p.push(`${encodeURIComponent(key)}=${g.chance(0.1) ? value : encodeURIComponent(value)}`);
  }
  return p.length ? `?${p.join('&')}` : '';
}

export function generate(g: Gen, routes: Route[], t: Targets): FuzzRequest | FuzzRaw {
  const route = g.pick(routes);
  const network = NETWORK_ROUTE.test(route.pattern) || route.pattern === '/images/create';
  const name = `${route.method} ${route.pattern}`;
  const roll = g.int(100);
  // a whole head's worth: a short prefix of a valid request would rightly wait for the rest
  if (roll < 4) return { kind: 'raw', bytes: Buffer.concat([g.bytes(1 + g.int(2048)), Buffer.from('\r\n\r\n')]), abort: g.chance(0.5), route: 'garbage' };
  if (roll < 6) return { kind: 'raw', bytes: Buffer.from(`${route.method} ${fillPath(g, route.pattern, t, network)} HTTP/1.1\r\nHost: x\r\nX-Huge: ${'h'.repeat(300 << 10)}\r\n\r\n`), abort: false, route: `${name} (huge head)` };
  if (roll < 8) return { kind: 'raw', bytes: Buffer.from(`${route.method} ${fillPath(g, route.pattern, t, network)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${g.pick(['-1', 'abc', '1e9', '99999999999999999999'])}\r\n\r\n`), abort: false, route: `${name} (bad length)` };
  if (roll < 10) return { kind: 'raw', bytes: Buffer.from(`${route.method} ${fillPath(g, route.pattern, t, network)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`), abort: g.chance(0.5), route: `${name} (bad chunk)` };
  if (route.pattern === '/images/create' && g.chance(0.7)) return importRequest(g, t, name);
  const method = g.chance(0.1) ? g.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'BREW']) : route.method;
  // login names a registry; without one it would go to Docker Hub
  const b = route.pattern === '/auth' ? { body: Buffer.from(JSON.stringify({ username: 'u', password: 'p', serveraddress: '127.0.0.1:1' })), contentType: 'application/json' }
    : network ? {} : body(g, route.pattern);
  const headers: Record<string, string> = {};
  if (b.contentType) headers['Content-Type'] = b.contentType;
  if (g.chance(0.1)) headers['Connection'] = 'Upgrade';
  if (g.chance(0.1)) headers['Upgrade'] = 'tcp';
  if (g.chance(0.05)) headers['X-Registry-Auth'] = g.pick(['!!!', 'e30=', 'a'.repeat(1000)]);
  return {
    kind: 'http',
    method,
    path: `${g.pick(VERSION_PREFIXES)}${fillPath(g, route.pattern, t, network)}${query(g, network)}`,
    headers,
    ...(b.body ? { body: b.body } : {}),
    ...(b.body && b.body.length > 10 && g.chance(0.1) ? { truncate: true } : {}),
    route: name,
  };
}

/** An import (`fromSrc=-`, never a URL) of a valid, corrupted, random or cut-off tar. */
function importRequest(g: Gen, t: Targets, route: string): FuzzRequest {
  let body: Buffer;
  switch (g.int(3)) {
    case 0:
      body = t.tar;
      break;
    case 1:
      body = Buffer.from(t.tar);
      for (let i = g.int(20); i >= 0; i--) body[g.int(body.length)] = g.int(256);
      break;
    default:
      body = g.bytes(g.int(8192));
  }
  return {
    kind: 'http', method: 'POST', route: `${route} (import)`,
    path: `/v1.47/images/create?fromSrc=-&repo=fuzz-import&tag=${g.int(5)}`,
    headers: g.chance(0.5) ? { 'Content-Type': 'application/x-tar' } : {},
    body,
    ...(g.chance(0.3) ? { truncate: true } : {}),
  };
}
