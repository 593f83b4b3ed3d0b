/**
 * How handlers answer: JSON, empty, a chunked stream, or a hijacked raw
 * socket (attach, exec). Two implementations: over a node ServerResponse,
 * and over the raw socket of an `Upgrade: tcp` request, where we write the
 * status line ourselves.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

export type Headers = Record<string, string | number>;

export interface Reply {
  json(status: number, body: unknown, headers?: Headers): void;
  empty(status: number, headers?: Headers): void;
  text(status: number, body: string, contentType?: string, headers?: Headers): void;
  /** Sends the status and headers now (clients block on them, e.g. wait) and returns the body stream. */
  stream(status: number, headers: Headers): Writable;
  /**
   * Takes over the connection for raw bytes both ways. With `Upgrade: tcp`
   * this answers 101; otherwise 200 and output only. The socket comes
   * paused: read it with lib/streams `consume`.
   */
  hijack(contentType: string): { socket: Socket | undefined; output: Writable; upgraded: boolean };
  /**
   * Answers an `Upgrade` request with `101 Switching Protocols` and these
   * headers (a websocket's accept) and hands over the socket, paused;
   * undefined for a request that asked for no upgrade.
   */
  switchProtocols(headers: Headers): Socket | undefined;
  readonly sent: boolean;
  /** Ends the exchange after an error in a handler that already started writing. */
  abort(): void;
}

/**
 * Headers as the flat `[name, value, ...]` list node's writeHead also takes:
 * about a quarter less CPU per answer than an object (measured on /_ping),
 * which sets the request rate. A name given twice falls back to the object
 * merge, so the last value wins as before.
 */
export function headerList(common: Headers, ...parts: Headers[]): string[] | Headers {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const h of [common, ...parts]) {
    for (const k in h) {
      const name = k.toLowerCase();
      if (seen.has(name)) return Object.assign({}, common, ...parts) as Headers;
      seen.add(name);
      out.push(k, String(h[k]));
    }
  }
  return out;
}

export class ResponseReply implements Reply {
  constructor(private readonly res: ServerResponse, private readonly common: Headers) {}

  get sent(): boolean {
    return this.res.headersSent;
  }

  json(status: number, body: unknown, headers: Headers = {}): void {
    const data = JSON.stringify(body) + '\n';
    this.res.writeHead(status, headerList(this.common, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }, headers));
    this.res.end(data);
  }

  empty(status: number, headers: Headers = {}): void {
    this.res.writeHead(status, headerList(this.common, headers));
    this.res.end();
  }

  text(status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Headers = {}): void {
    this.res.writeHead(status, headerList(this.common, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) }, headers));
    this.res.end(body);
  }

  stream(status: number, headers: Headers): Writable {
    this.res.writeHead(status, headerList(this.common, headers));
    this.res.flushHeaders();
    return this.res;
  }

  hijack(contentType: string): { socket: Socket | undefined; output: Writable; upgraded: boolean } {
    return { socket: undefined, output: this.stream(200, { 'Content-Type': contentType }), upgraded: false };
  }

  switchProtocols(): undefined {
    return undefined;
  }

  abort(): void {
    this.res.destroy();
  }
}

const STATUS_TEXT: Record<number, string> = {
  101: 'UPGRADED', 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error',
  501: 'Not Implemented', 503: 'Service Unavailable',
};

function head(status: number, headers: Headers): string {
  let s = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Status'}\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  return s + '\r\n';
}

/** For requests that arrived through the server's 'upgrade' event: we own the socket. */
export class UpgradeReply implements Reply {
  private done = false;
  constructor(private readonly socket: Socket, private readonly common: Headers) {}

  get sent(): boolean {
    return this.done;
  }

  private finish(status: number, headers: Headers, body = ''): void {
    this.done = true;
    this.socket.end(head(status, { ...this.common, 'Content-Length': Buffer.byteLength(body), Connection: 'close', ...headers }) + body);
  }

  json(status: number, body: unknown, headers: Headers = {}): void {
    this.finish(status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(body) + '\n');
  }

  empty(status: number, headers: Headers = {}): void {
    this.finish(status, headers);
  }

  text(status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Headers = {}): void {
    this.finish(status, { 'Content-Type': contentType, ...headers }, body);
  }

  stream(status: number, headers: Headers): Writable {
    this.done = true;
    this.socket.write(head(status, { ...this.common, Connection: 'close', ...headers }));
    return this.socket;
  }

  hijack(contentType: string): { socket: Socket; output: Writable; upgraded: boolean } {
    this.done = true;
    this.socket.on('error', () => {}); // a client that vanishes mid-stream must not take the daemon down
    this.socket.write(head(101, { ...this.common, 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' }));
    return { socket: this.socket, output: this.socket, upgraded: true };
  }

  switchProtocols(headers: Headers): Socket {
    this.done = true;
    this.socket.on('error', () => {});
    this.socket.write(`HTTP/1.1 101 Switching Protocols\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    return this.socket;
  }

  abort(): void {
    this.socket.destroy();
  }
}
