/**
 * `berth console`'s web server: the page and its assets, `/api/*` proxied
 * (allow-listed) to the Engine API of the current context, and
 * `/terminal` (a websocket bridged to an exec). security.ts says who may
 * use it.
 *
 *   const c = await startConsole({ client, host: '127.0.0.1', port: 0 });
 *   console.log(c.url); // http://127.0.0.1:41234/?token=…
 *   await c.close();
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { EngineClient } from '../../client/engine-client.js';
import { Forbidden, httpStatusOf, InvalidParameter, Unauthorized } from '../../errdefs/index.js';
import { AssetStore, defaultAssetsDir } from './assets.js';
import { downloadFile, listFiles } from './container-files.js';
import { proxyEngine } from './engine-proxy.js';
import { proxyRegistry, type RegistryCredentials } from './registry-proxy.js';
import { writeError } from './replies.js';
import { changesState, ConsoleAuth, consoleHosts, sameOrigin } from './security.js';
import { bridgeTerminal } from './terminal-bridge.js';

export interface ConsoleOptions {
  client: EngineClient;
  host: string;
  port: number;
  assetsDir?: string;
  registryAuth?: (image: string) => string;
  /** The client's credentials for a registry host, for the registry browser. */
  registryCredentials?: RegistryCredentials;
}

export interface RunningConsole {
  /** The URL to open, with the one-time token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

// the page's own script and styles only; xterm.js sets inline styles
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

const WILDCARD = new Set(['0.0.0.0', '::', '']);

export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  const auth = new ConsoleAuth();
  const assets = new AssetStore(o.assetsDir ?? defaultAssetsDir());
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  let hosts = new Set<string>();
  const hostAllowed = (req: IncomingMessage) => WILDCARD.has(o.host) || hosts.has(req.headers.host ?? '');

  /** Why a request may not go on (an error to answer), or undefined when it may. */
  const refusal = (req: IncomingMessage, upgrade: boolean): Error | undefined => {
    if (!hostAllowed(req)) return new Forbidden('console.bad_host', `the console does not answer for host ${req.headers.host ?? ''}`);
    if (!auth.authenticated(req.headers)) return new Unauthorized('console.unauthorized', 'open the console with the URL and token that berth console printed');
    if ((upgrade || changesState(req.method ?? 'GET')) && !sameOrigin(req.headers)) return new Forbidden('console.cross_origin', 'cross-origin request refused');
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://console');
    if (url.pathname === '/' && url.searchParams.has('token') && hostAllowed(req)) {
      const cookie = auth.exchange(url.searchParams.get('token'));
      if (!cookie) return writeError(res, new Unauthorized('console.unauthorized', 'this token is not valid or was already used: run berth console again'));
      res.writeHead(303, { 'Set-Cookie': cookie, Location: '/', 'Cache-Control': 'no-store' });
      return res.end();
    }
    const refused = refusal(req, false);
    if (refused) return writeError(res, refused);
    if (url.pathname.startsWith('/api/')) return proxyEngine(req, res, url, { client: o.client, ...(o.registryAuth ? { registryAuth: o.registryAuth } : {}) });
    if (url.pathname.startsWith('/registry/v2/')) return proxyRegistry(req, res, url, o.registryCredentials ?? (() => ({})));
    if (req.method === 'GET' && url.pathname === '/files') return listFiles(o.client, res, url);
    if (req.method === 'GET' && url.pathname === '/files/download') return downloadFile(o.client, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return writeError(res, new Forbidden('console.route_not_allowed', `the console does not answer ${req.method} ${url.pathname}`));
    const asset = await assets.get(url.pathname);
    res.writeHead(200, { 'Content-Type': asset.type, 'Content-Length': asset.body.length, 'Cache-Control': 'no-store', ...PAGE_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => writeError(res, err));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const refused = refusal(req, true) ?? (url.pathname === '/terminal' && url.searchParams.get('container') ? undefined : new InvalidParameter('console.bad_terminal', 'a terminal needs ?container='));
    if (refused) {
      const body = JSON.stringify({ message: refused.message });
      const status = httpStatusOf(refused);
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const cmd = url.searchParams.getAll('cmd');
      void bridgeTerminal(ws, o.client, { container: url.searchParams.get('container')!, cmd: cmd.length ? cmd : ['sh'] });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hosts = consoleHosts(o.host, port);
  const shown = WILDCARD.has(o.host) ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shown}:${port}/?token=${auth.token}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
