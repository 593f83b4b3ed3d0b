/**
 * The kubelet's websocket channel framing (k8s.io/apimachinery wsstream):
 * each message carries one channel's bytes, its first byte the channel
 * number; the base64 variants send text messages whose first character is
 * the channel as an ASCII digit and the rest the base64 of the bytes.
 * `v5.channel.k8s.io` adds a close signal: channel 255 with the number of
 * the channel the client closed (its stdin).
 */
import type { RawData, WebSocket } from 'ws';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE_SIGNAL = 255;

/** Exec and attach, newest first: the server takes the first the client offers that it knows. */
export const REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'];
export const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];

export function isBase64(protocol: string): boolean {
  return protocol === 'base64.channel.k8s.io' || protocol.endsWith('.base64.channel.k8s.io');
}

/** The protocol version's number (v1 for the unversioned `channel.k8s.io`). */
export function protocolVersion(protocol: string): number {
  const m = /^v(\d+)\./.exec(protocol);
  return m ? Number(m[1]) : 1;
}

export function encodeFrame(channel: number, data: Buffer, base64: boolean): Buffer | string {
  if (base64) return String.fromCharCode(48 + channel) + data.toString('base64');
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = channel;
  data.copy(out, 1);
  return out;
}

export function decodeFrame(msg: Buffer, base64: boolean): { channel: number; data: Buffer } | undefined {
  if (!msg.length) return undefined;
  if (base64) return { channel: msg[0]! - 48, data: Buffer.from(msg.subarray(1).toString('latin1'), 'base64') };
  return { channel: msg[0]!, data: msg.subarray(1) };
}

function toBuffer(raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.from(raw);
}

/**
 * What exec, attach and port-forward serve over: numbered channels both
 * ways, whatever carries them (a websocket here, SPDY streams in
 * spdy-channels.ts).
 */
export interface Channels {
  /** The remote-command protocol's version (1 for the unversioned one): from 4 the outcome is a JSON Status. */
  readonly version: number;
  /** The client's bytes per channel; set by the handler that serves the connection. */
  onFrame: (channel: number, data: Buffer) => void;
  /** Sends on a channel; false when much is unsent (the caller waits for drained()). */
  send(channel: number, data: Buffer): boolean;
  /** Resolves when what was sent so far has gone to the socket. */
  drained(): Promise<void>;
  /** Ends the connection after what was sent. */
  close(): void;
  /** Runs once the client has gone (or the connection was closed). */
  onClose(cb: () => void): void;
}

/** A websocket speaking one of the channel protocols: channel writes, per-channel reads. */
export class ChannelSocket implements Channels {
  readonly base64: boolean;
  readonly version: number;
  private pending: Promise<void> = Promise.resolve();
  /** The client's frames; set by the handler that serves the socket. */
  onFrame: (channel: number, data: Buffer) => void = () => {};

  constructor(readonly ws: WebSocket, readonly protocol: string) {
    this.base64 = isBase64(protocol);
    this.version = protocolVersion(protocol);
    ws.on('message', (raw) => {
      const f = decodeFrame(toBuffer(raw), this.base64);
      if (f) this.onFrame(f.channel, f.data);
    });
  }

  /** Sends on a channel; false when the socket has much unsent (the caller waits for drained()). */
  send(channel: number, data: Buffer): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return true;
    this.pending = new Promise((resolve) => this.ws.send(encodeFrame(channel, data, this.base64), () => resolve()));
    return this.ws.bufferedAmount < 1 << 20;
  }

  /** Resolves when what was sent so far has gone to the socket. */
  drained(): Promise<void> {
    return this.pending;
  }

  close(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
  }

  onClose(cb: () => void): void {
    this.ws.on('close', cb);
  }
}
