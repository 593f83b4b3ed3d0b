/**
 * The server side of RFC 6455, as much as `GET /containers/{id}/attach/ws`
 * needs: the opening handshake, frames both ways (the client's masked),
 * fragmentation, ping/pong and the closing handshake. No extensions and no
 * subprotocols, as moby's golang.org/x/net/websocket server offers none.
 *
 *   const key = websocketKey(req.raw.headers);            // before answering: a bad handshake is a 400
 *   const socket = reply.switchProtocols(acceptHeaders(key));
 *   const ws = new WebSocketConnection(socket, { binary: true });
 *   ws.send(Buffer.from('hi'));  ws.input.pipe(process);  ws.close(1000);
 *
 * Frame layout (RFC 6455 §5.2): byte 0 = FIN | RSV1-3 | opcode; byte 1 =
 * MASK | 7-bit length (126: 16-bit length follows, 127: 64-bit); then the
 * 4-byte masking key when MASK is set, then the payload.
 */
import { createHash } from '../../lib/lazy-crypto.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { InvalidParameter } from '../../errdefs/index.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Larger data frames from a client end the connection (1009): stdin arrives in small pieces. */
export const MAX_PAYLOAD = 16 << 20;

export const enum Opcode {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

export const CloseCode = { Normal: 1000, ProtocolError: 1002, TooBig: 1009 } as const;

/** The client's Sec-WebSocket-Key of a valid opening handshake; InvalidParameter otherwise. */
export function websocketKey(headers: IncomingHttpHeaders): string {
  const bad = (why: string) => new InvalidParameter('websocket.bad_handshake', `not a websocket handshake: ${why}`);
  if ((headers.upgrade ?? '').toLowerCase() !== 'websocket') throw bad("'upgrade' header is not 'websocket'");
  if (!(headers.connection ?? '').toLowerCase().split(',').some((t) => t.trim() === 'upgrade')) throw bad("'connection' header does not contain 'upgrade'");
  if (headers['sec-websocket-version'] !== '13') throw bad('unsupported Sec-WebSocket-Version (13 is)');
  const key = headers['sec-websocket-key'] ?? '';
  if (Buffer.from(key, 'base64').length !== 16) throw bad('Sec-WebSocket-Key is not 16 bytes in base64');
  return key;
}

export function acceptValue(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** The headers of the 101 that accepts the handshake. */
export function acceptHeaders(key: string): Record<string, string> {
  return { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': acceptValue(key) };
}

/** One frame; `mask` (4 bytes) only for frames a client sends. */
export function encodeFrame(opcode: Opcode, payload: Buffer, o: { fin?: boolean; mask?: Buffer } = {}): Buffer {
  const n = payload.length;
  const lenBytes = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + lenBytes + (o.mask ? 4 : 0));
  head[0] = (o.fin === false ? 0 : 0x80) | opcode;
  head[1] = (o.mask ? 0x80 : 0) | (lenBytes === 0 ? n : lenBytes === 2 ? 126 : 127);
  if (lenBytes === 2) head.writeUInt16BE(n, 2);
  if (lenBytes === 8) head.writeBigUInt64BE(BigInt(n), 2);
  if (!o.mask) return Buffer.concat([head, payload]);
  o.mask.copy(head, 2 + lenBytes);
  return Buffer.concat([head, applyMask(payload, o.mask)]);
}

function applyMask(payload: Buffer, mask: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

export interface Frame {
  fin: boolean;
  opcode: Opcode;
  payload: Buffer;
}

/** A broken frame: the connection ends with `code`. */
export class FrameError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Splits a byte stream into frames, unmasked. `requireMask`: frames from a client must be masked (§5.1). */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly o: { requireMask: boolean; maxPayload?: number }) {}

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    for (;;) {
      const f = this.next();
      if (!f) return frames;
      frames.push(f);
    }
  }

  private next(): Frame | undefined {
    const b = this.buf;
    if (b.length < 2) return undefined;
    const fin = (b[0]! & 0x80) !== 0;
    if (b[0]! & 0x70) throw new FrameError(CloseCode.ProtocolError, 'reserved bits set without an extension');
    const opcode = (b[0]! & 0x0f) as Opcode;
    if (![0, 1, 2, 8, 9, 10].includes(opcode)) throw new FrameError(CloseCode.ProtocolError, `unknown opcode ${opcode}`);
    const masked = (b[1]! & 0x80) !== 0;
    if (this.o.requireMask && !masked) throw new FrameError(CloseCode.ProtocolError, 'client frame not masked');
    let len = b[1]! & 0x7f;
    let at = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameError(CloseCode.TooBig, 'frame too large');
      len = Number(big);
      at = 10;
    }
    if (opcode >= Opcode.Close && (len > 125 || !fin)) throw new FrameError(CloseCode.ProtocolError, 'control frame fragmented or over 125 bytes');
    if (len > (this.o.maxPayload ?? MAX_PAYLOAD)) throw new FrameError(CloseCode.TooBig, `frame of ${len} bytes is too large`);
    const maskAt = at;
    if (masked) at += 4;
    if (b.length < at + len) return undefined;
    let payload: Buffer = b.subarray(at, at + len);
    if (masked) payload = applyMask(payload, b.subarray(maskAt, maskAt + 4));
    this.buf = b.subarray(at + len);
    return { fin, opcode, payload };
  }
}

/**
 * An accepted connection. Data frames' payloads (text or binary, fragments
 * joined) flow into `input`, which ends when the client sends Close; what
 * the server `send`s goes out as one frame each. Back-pressure both ways: a
 * full `input` pauses the socket; `send` returns false when the client is
 * behind (`drained` then resolves).
 */
export class WebSocketConnection {
  readonly input = new PassThrough();
  private readonly decoder = new FrameDecoder({ requireMask: true });
  private fragmented = false;
  private closeSent = false;

  constructor(private readonly socket: Socket, private readonly o: { binary: boolean }) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => {
      if (!this.input.writableEnded) this.input.destroy();
    });
    this.input.on('drain', () => socket.resume());
    socket.resume();
  }

  private receive(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.close(err instanceof FrameError ? err.code : CloseCode.ProtocolError);
      this.input.destroy();
      return;
    }
    for (const f of frames) {
      switch (f.opcode) {
        case Opcode.Ping:
          if (!this.closeSent) this.socket.write(encodeFrame(Opcode.Pong, f.payload));
          break;
        case Opcode.Pong:
          break;
        case Opcode.Close:
          // the end of the client's input; our Close follows once our side is done (moby's order)
          this.input.end();
          break;
        default: {
          const continuation = f.opcode === Opcode.Continuation;
          if (continuation !== this.fragmented || this.input.writableEnded) {
            this.close(CloseCode.ProtocolError);
            this.input.destroy();
            return;
          }
          this.fragmented = !f.fin;
          if (f.payload.length && !this.input.write(f.payload)) this.socket.pause();
        }
      }
    }
  }

  /** The connection is closed (by either side). */
  get gone(): boolean {
    return this.socket.destroyed;
  }

  onGone(fn: () => void): void {
    this.socket.once('close', fn);
  }

  send(data: Buffer): boolean {
    if (this.closeSent || this.socket.destroyed) return true;
    return this.socket.write(encodeFrame(this.o.binary ? Opcode.Binary : Opcode.Text, data));
  }

  drained(): Promise<void> {
    if (this.socket.destroyed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((r) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        r();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Sends Close with `code` and ends the connection. */
  close(code: number = CloseCode.Normal): void {
    if (this.closeSent || this.socket.destroyed) return;
    this.closeSent = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.socket.end(encodeFrame(Opcode.Close, payload));
    // a client that never answers our Close must not hold the connection
    setTimeout(() => this.socket.destroy(), 5_000).unref();
  }
}
