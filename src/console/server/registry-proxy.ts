/**
 * The registry browser's reads (and manifest deletes), done by the console
 * server so the page needs no CORS from the registry and never sees the
 * credentials: `/registry/<distribution API path>?registry=HOST[:PORT]`
 * forwards an allow-listed `/v2/…` path to that registry, answering its
 * auth challenge (Basic, or a Bearer token from its realm) with the
 * client's credentials for it.
 *
 *   GET    /registry/v2/_catalog?registry=127.0.0.1:5000
 *   GET    /registry/v2/team/app/manifests/1?registry=127.0.0.1:5000
 *   DELETE /registry/v2/team/app/manifests/sha256:…?registry=127.0.0.1:5000
 *
 * The scheme is https, except for loopback registries (http, as docker
 * treats them as insecure) or an address that names its scheme.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { AuthConfig } from '../../api/registry-auth.js';
import { Forbidden, InvalidParameter, Unavailable } from '../../errdefs/index.js';
import { writeError } from './replies.js';

const NAME = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*';
const DIGEST = 'sha256:[0-9a-f]{64}';
const REFERENCE = `(?:[\\w][\\w.-]{0,127}|${DIGEST})`;

/** Registry routes the browser may use: reads, and a manifest delete by digest. */
const routes: { method: string; re: RegExp; action: 'pull' | 'delete' | 'catalog' }[] = [
  { method: 'GET', re: /^\/v2\/_catalog$/, action: 'catalog' },
  { method: 'GET', re: new RegExp(`^/v2/(${NAME})/tags/list$`), action: 'pull' },
  { method: 'GET', re: new RegExp(`^/v2/(${NAME})/manifests/${REFERENCE}$`), action: 'pull' },
  { method: 'HEAD', re: new RegExp(`^/v2/(${NAME})/manifests/${REFERENCE}$`), action: 'pull' },
  { method: 'GET', re: new RegExp(`^/v2/(${NAME})/blobs/${DIGEST}$`), action: 'pull' },
  { method: 'GET', re: new RegExp(`^/v2/(${NAME})/referrers/${DIGEST}$`), action: 'pull' },
  { method: 'DELETE', re: new RegExp(`^/v2/(${NAME})/manifests/${DIGEST}$`), action: 'delete' },
];

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const FORWARDED = ['content-type', 'content-length', 'docker-content-digest', 'link', 'oci-filters-applied'];

export type RegistryCredentials = (registry: string) => AuthConfig;

/** `HOST[:PORT]` or a URL with its scheme, as the page gives it → the registry's base URL. */
export function registryBase(address: string): URL {
  const withScheme = /^https?:\/\//.test(address) ? address : `https://${address}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new InvalidParameter('console.bad_registry', `not a registry address: ${address}`);
  }
  if (!address || u.pathname !== '/' || u.search || u.username) throw new InvalidParameter('console.bad_registry', `not a registry address: ${address}`);
  if (!/^https?:\/\//.test(address) && (u.hostname === 'localhost' || u.hostname.startsWith('127.') || u.hostname === '[::1]')) u.protocol = 'http:';
  return u;
}

function challengeParams(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = (/^\s*(\w+)/.exec(header)?.[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

function basicOf(c: AuthConfig): string | undefined {
  if (c.username === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
}

/** The Authorization header that answers a 401's challenge, or undefined when we have nothing to try. */
async function authorize(challenge: string, creds: AuthConfig, scope: string): Promise<string | undefined> {
  const { scheme, params } = challengeParams(challenge);
  if (scheme === 'basic') return basicOf(creds);
  if (scheme !== 'bearer' || !params.realm) return undefined;
  if (creds.registrytoken) return `Bearer ${creds.registrytoken}`;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set('service', params.service);
  url.searchParams.set('scope', scope);
  const basic = basicOf(creds);
  const res = await fetch(url, { headers: basic ? { Authorization: basic } : {}, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) return undefined;
  const body = await res.json() as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  return token ? `Bearer ${token}` : undefined;
}

export async function proxyRegistry(req: IncomingMessage, res: ServerResponse, url: URL, credentials: RegistryCredentials): Promise<void> {
  const method = req.method ?? 'GET';
  const path = url.pathname.slice('/registry'.length);
  const route = routes.find((r) => r.method === method && r.re.test(path));
  if (!route) return writeError(res, new Forbidden('console.route_not_allowed', `the console does not forward ${method} ${path} to a registry`));
  const base = registryBase(url.searchParams.get('registry') ?? '');
  const target = new URL(path, base);
  for (const [k, v] of url.searchParams) if (k === 'n' || k === 'last' || k === 'artifactType') target.searchParams.set(k, v);
  const repo = route.re.exec(path)?.[1] ?? '';
  const scope = route.action === 'catalog' ? 'registry:catalog:*' : `repository:${repo}:${route.action}`;
  const headers: Record<string, string> = { Accept: MANIFEST_TYPES };
  const send = () => fetch(target, { method, headers, redirect: 'follow', signal: AbortSignal.timeout(60_000) });
  let upstream: Response;
  try {
    upstream = await send();
    const challenge = upstream.headers.get('www-authenticate');
    if (upstream.status === 401 && challenge) {
      const auth = await authorize(challenge, credentials(base.host), scope);
      if (auth) {
        await upstream.body?.cancel();
        headers.Authorization = auth;
        upstream = await send();
      }
    }
  } catch (err) {
    return writeError(res, new Unavailable('console.registry_unreachable', `cannot reach the registry at ${base.origin}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`), 502);
  }
  if (!upstream.ok) {
    // the registry's own error words (`{"errors":[{"code","message"}]}`) as Docker's `{"message"}`
    const text = await upstream.text();
    let message = text || upstream.statusText;
    try {
      const e = (JSON.parse(text) as { errors?: { code: string; message: string }[] }).errors?.[0];
      if (e) message = `${e.code}: ${e.message}`;
    } catch { /* not JSON */ }
    res.writeHead(upstream.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ message }));
    return;
  }
  const out: Record<string, string> = { 'Cache-Control': 'no-store' };
  for (const h of FORWARDED) {
    const v = upstream.headers.get(h);
    if (v) out[h] = v;
  }
  // a blob is data from the network: never let the browser run it as a page
  if (route.re.source.includes('blobs')) out['Content-Type'] = 'application/octet-stream';
  res.writeHead(upstream.status, out);
  if (!upstream.body || method === 'HEAD') {
    res.end();
    return;
  }
  const body = Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream);
  res.once('close', () => body.destroy());
  body.pipe(res);
}
