/**
 * The streaming server the CRI's Exec, Attach and PortForward answer with
 * a URL on (the kubelet's pkg/cri/streaming): HTTP on the loopback at a
 * random port, `/exec/<token>`, `/attach/<token>`, `/portforward/<token>`,
 * each token good for one request within a minute. It speaks the
 * websocket channel protocols; SPDY upgrades are refused.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../../lib/logger.js';
import { ChannelSocket, PORT_FORWARD_PROTOCOLS, REMOTE_COMMAND_PROTOCOLS } from './channels.js';
import { parsePorts, servePortForward, type ForwardTarget } from './port-forward.js';
import { serveAttach, serveExec, type AttachRequest, type ExecRequest, type RemoteCommandDeps } from './remote-command.js';
import { TokenCache } from './tokens.js';

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

function reject(socket: Socket, status: number, reason: string, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}

export class StreamServer {
  private readonly tokens = new TokenCache<Pending>();
  private readonly http: Server;
  /** One per protocol family: each takes the first subprotocol the client offers that it knows. */
  private readonly wss = { command: wsServer(REMOTE_COMMAND_PROTOCOLS), forward: wsServer(PORT_FORWARD_PROTOCOLS) };
  private base = '';

  constructor(private readonly d: StreamServerDeps) {
    this.http = createServer((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('berth\'s streaming server speaks the websocket channel protocols (v5/v4.channel.k8s.io, portforward over v4.channel.k8s.io) only');
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
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://streaming');
    const m = /^\/(exec|attach|portforward)\/([^/]+)$/.exec(url.pathname);
    const pending = m ? this.tokens.consume(m[2]!) : undefined;
    if (!m || !pending || pending.kind !== m[1]) return reject(socket, 404, 'Not Found', '404 page not found\n');
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return reject(socket, 400, 'Bad Request', 'SPDY is not supported: use a websocket channel protocol (v5.channel.k8s.io, v4.channel.k8s.io)');
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
}
