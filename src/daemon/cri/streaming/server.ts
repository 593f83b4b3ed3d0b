/**
 * The streaming server the CRI's Exec, Attach and PortForward answer with
 * a URL on (the kubelet's pkg/cri/streaming): HTTP on the loopback at a
 * random port, `/exec/<token>`, `/attach/<token>`, `/portforward/<token>`,
 * each token good for one request within a minute. It speaks the
 * websocket channel protocols and, as the kubelet, SPDY/3.1 (what the API
 * server sends `kubectl exec`, `attach` and `port-forward` down as).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../../lib/logger.js';
import { ChannelSocket, PORT_FORWARD_PROTOCOLS, REMOTE_COMMAND_PROTOCOLS } from './channels.js';
import { parsePorts, servePortForward, type ForwardTarget } from './port-forward.js';
import { serveAttach, serveExec, type AttachRequest, type ExecRequest, type RemoteCommandDeps } from './remote-command.js';
import { TokenCache } from './tokens.js';
import { SpdySession } from './spdy/session.js';
import { acceptRemoteCommandStreams, SPDY_REMOTE_COMMAND_PROTOCOLS } from './spdy-channels.js';
import { serveSpdyPortForward, SPDY_PORT_FORWARD_PROTOCOLS } from './spdy-port-forward.js';

type Pending =
  | { kind: 'exec'; req: ExecRequest }
  | { kind: 'attach'; req: AttachRequest }
  | { kind: 'portforward'; podId: string; target: ForwardTarget };

export interface StreamServerDeps extends RemoteCommandDeps {
  log: Logger;
}

function wsServer(supported: string[]): WebSocketServer {
  return new WebSocketServer({ noServer: true, handleProtocols: (offered) => [...offered].find((p) => supported.includes(p)) ?? false });
}

function reject(socket: Socket, status: number, reason: string, message: string, headers: string[] = []): void {
  const extra = headers.map((h) => `${h}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n${extra}Content-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}

/** Go prints a []string as `[a b]`, which the kubelet's negotiation error shows. */
const goList = (xs: string[]) => `[${xs.join(' ')}]`;

export class StreamServer {
  private readonly tokens = new TokenCache<Pending>();
  private readonly http: Server;
  /** One per protocol family: each takes the first subprotocol the client offers that it knows. */
  private readonly wss = { command: wsServer(REMOTE_COMMAND_PROTOCOLS), forward: wsServer(PORT_FORWARD_PROTOCOLS) };
  private readonly spdy = new Set<SpdySession>();
  private base = '';

  constructor(private readonly d: StreamServerDeps) {
    this.http = createServer((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('berth\'s streaming server takes upgrades only: SPDY/3.1 or a websocket channel protocol (v5/v4.channel.k8s.io)');
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
  }

  async listen(host = '127.0.0.1', port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => resolve());
    });
    const a = this.http.address() as AddressInfo;
    this.base = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  execUrl(req: ExecRequest): string {
    return `${this.base}/exec/${this.tokens.put({ kind: 'exec', req })}`;
  }

  attachUrl(req: AttachRequest): string {
    return `${this.base}/attach/${this.tokens.put({ kind: 'attach', req })}`;
  }

  portForwardUrl(podId: string, target: ForwardTarget): string {
    return `${this.base}/portforward/${this.tokens.put({ kind: 'portforward', podId, target })}`;
  }

  async close(): Promise<void> {
    for (const ws of [...this.wss.command.clients, ...this.wss.forward.clients]) ws.terminate();
    for (const s of this.spdy) s.destroy();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://streaming');
    const m = /^\/(exec|attach|portforward)\/([^/]+)$/.exec(url.pathname);
    const pending = m ? this.tokens.consume(m[2]!) : undefined;
    if (!m || !pending || pending.kind !== m[1]) return reject(socket, 404, 'Not Found', '404 page not found\n');
    const upgradeTo = (req.headers.upgrade ?? '').toLowerCase();
    if (upgradeTo.includes('spdy/3.1')) return this.upgradeSpdy(req, socket, head, pending);
    if (upgradeTo !== 'websocket') {
      return reject(socket, 400, 'Bad Request', `unable to upgrade: missing upgrade headers in request: Upgrade ${JSON.stringify(req.headers.upgrade ?? '')}`);
    }
    let ports: number[] = [];
    if (pending.kind === 'portforward') {
      try {
        ports = parsePorts(url.searchParams);
      } catch (err) {
        return reject(socket, 400, 'Bad Request', (err as Error).message);
      }
    }
    const supported = pending.kind === 'portforward' ? PORT_FORWARD_PROTOCOLS : REMOTE_COMMAND_PROTOCOLS;
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    // no subprotocol offered is the unversioned binary framing, as the kubelet's "" protocol
    if (offered.length && !offered.some((p) => supported.includes(p))) {
      return reject(socket, 400, 'Bad Request', `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(supported)}`);
    }
    (pending.kind === 'portforward' ? this.wss.forward : this.wss.command).handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const sock = new ChannelSocket(ws, ws.protocol || (pending.kind === 'portforward' ? 'v4.channel.k8s.io' : 'channel.k8s.io'));
      ws.on('error', (err) => this.d.log.debug('CRI stream socket error', { error: err.message }));
      const served = pending.kind === 'exec' ? serveExec(sock, pending.req, this.d)
        : pending.kind === 'attach' ? serveAttach(sock, pending.req, this.d)
          : Promise.resolve(servePortForward(sock, pending.podId, pending.target, ports));
      served.catch((err: Error) => {
        this.d.log.warn('CRI stream failed', { kind: pending.kind, error: err.message });
        sock.close();
      });
    });
  }

  /** The kubelet's SPDY path: negotiate X-Stream-Protocol-Version, switch protocols, serve the client's streams. */
  private upgradeSpdy(req: IncomingMessage, socket: Socket, head: Buffer, pending: Pending): void {
    const supported = pending.kind === 'portforward' ? SPDY_PORT_FORWARD_PROTOCOLS : SPDY_REMOTE_COMMAND_PROTOCOLS;
    const raw = req.headersDistinct['x-stream-protocol-version'] ?? [];
    const offered = raw.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
    if (!offered.length) return reject(socket, 400, 'Bad Request', 'unable to upgrade: X-Stream-Protocol-Version is required');
    const protocol = offered.find((p) => supported.includes(p));
    if (!protocol) {
      return reject(socket, 403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports ${goList(offered)}, server accepts ${goList(supported)}\n`,
        supported.map((p) => `X-Accepted-Stream-Protocol-Versions: ${p}`));
    }
    socket.setNoDelay(true);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    const session = new SpdySession(socket, 'server', head);
    this.spdy.add(session);
    session.on('close', () => this.spdy.delete(session));
    session.on('socketError', (err: Error) => this.d.log.debug('CRI SPDY stream error', { error: err.message }));
    if (pending.kind === 'portforward') return serveSpdyPortForward(session, pending.podId, pending.target, this.d.log);
    const want = pending.req;
    acceptRemoteCommandStreams(session, protocol, { stdin: want.stdin, stdout: want.stdout, stderr: want.stderr, tty: want.tty })
      .then((channels) => (pending.kind === 'exec' ? serveExec(channels, pending.req, this.d) : serveAttach(channels, pending.req, this.d))
        .catch((err: Error) => {
          this.d.log.warn('CRI stream failed', { kind: pending.kind, error: err.message });
          channels.close();
        }))
      .catch((err: Error) => {
        this.d.log.warn('CRI SPDY streams not created', { kind: pending.kind, error: err.message });
        session.destroy();
      });
  }
}
