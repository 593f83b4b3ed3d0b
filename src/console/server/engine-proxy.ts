/**
 * Forwards an allowed `/api/<engine path>` request to the Engine API of
 * the current context through the client's transport (unix socket,
 * TCP+TLS or ssh), streaming both ways: events, followed logs and pull
 * progress flow to the browser as they come, and end when the tab goes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EngineClient } from '../../client/engine-client.js';
import { Forbidden, httpStatusOf } from '../../errdefs/index.js';
import { allowedRoute } from './allow-list.js';
import { writeError } from './replies.js';

export interface ProxyOptions {
  client: EngineClient;
  /** X-Registry-Auth for an image reference, from the client's credentials (pulls and pushes). */
  registryAuth?: (image: string) => string;
}

/** Headers of the browser's request that the daemon may see; cookies never leave the console. */
const FORWARDED_REQUEST_HEADERS = ['content-type'];
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'api-version', 'docker-experimental', 'ostype'];

export async function proxyEngine(req: IncomingMessage, res: ServerResponse, url: URL, o: ProxyOptions): Promise<void> {
  const path = url.pathname.slice('/api'.length);
  const method = req.method ?? 'GET';
  if (!allowedRoute(method, path)) {
    writeError(res, new Forbidden('console.route_not_allowed', `the console does not forward ${method} ${path}`));
    return;
  }
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_REQUEST_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const pushed = /^\/images\/(.+)\/push$/.exec(path);
  if ((path === '/images/create' || pushed) && o.registryAuth) {
    const image = pushed ? decodeURIComponent(pushed[1]!) : url.searchParams.get('fromImage') ?? '';
    const tag = url.searchParams.get('tag');
    headers['X-Registry-Auth'] = o.registryAuth(tag ? `${image}:${tag}` : image);
  }
  const hasBody = method === 'POST';
  let upstream: IncomingMessage;
  try {
    upstream = await o.client.raw(method, `/v${o.client.version}${path}${url.search}`, { headers, ...(hasBody ? { stream: req } : {}) });
  } catch (err) {
    writeError(res, err, httpStatusOf(err) === 500 ? 502 : undefined);
    return;
  }
  const out: Record<string, string> = { 'Cache-Control': 'no-store' };
  for (const h of FORWARDED_RESPONSE_HEADERS) {
    const v = upstream.headers[h];
    if (typeof v === 'string') out[h] = v;
  }
  res.writeHead(upstream.statusCode ?? 502, out);
  res.flushHeaders();
  // a stream the browser stopped reading (a closed tab, a new log query) ends upstream too
  res.once('close', () => upstream.destroy());
  upstream.pipe(res);
}
