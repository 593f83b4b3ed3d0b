/**
 * SPDY/3.1 framing (the draft-mbelshe-httpbis-spdy-00 wire format the
 * kubelet and the API server speak through moby/spdystream): pure encoders
 * and an incremental parser. Every frame has an 8-byte header:
 *
 *   control: |1| version=3 (15) | type (16) | flags (8) | length (24) | payload
 *   data:    |0| stream id (31)             | flags (8) | length (24) | payload
 *
 * Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are `count, (len name, len
 * value)*` with 32-bit big-endian lengths, lowercase names and multiple
 * values joined by NUL, compressed by one zlib stream per direction of the
 * session (header-codec.ts).
 */

export const VERSION = 3;

export const FrameType = {
  SynStream: 1, SynReply: 2, RstStream: 3, Settings: 4, Ping: 6, GoAway: 7, Headers: 8, WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1, InvalidStream: 2, RefusedStream: 3, UnsupportedVersion: 4, Cancel: 5,
  InternalError: 6, FlowControlError: 7, StreamInUse: 8, StreamAlreadyClosed: 9, FrameTooLarge: 11,
} as const;

/** The SETTINGS id of the initial stream window. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** Every stream's and the session's window until the peer says otherwise. */
export const DEFAULT_WINDOW = 64 * 1024;
export const MAX_FRAME_LENGTH = 0xffffff;

export type Headers = Record<string, string>;

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; flags: number; block: Buffer }
  | { type: 'syn_reply'; streamId: number; flags: number; block: Buffer }
  | { type: 'headers'; streamId: number; flags: number; block: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number; version: number };

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_LENGTH) throw new RangeError('SPDY frame payload over 16 MiB');
  const h = Buffer.allocUnsafe(8);
  h.writeUInt16BE(0x8000 | VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  if (data.length > MAX_FRAME_LENGTH) throw new RangeError('SPDY frame payload over 16 MiB');
  const h = Buffer.allocUnsafe(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24 | data.length) >>> 0, 4);
  return Buffer.concat([h, data]);
}

/** `block` is the compressed header block. */
export function synStreamFrame(streamId: number, block: Buffer, opts: { fin?: boolean; unidirectional?: boolean; priority?: number; associatedId?: number } = {}): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE((opts.associatedId ?? 0) & 0x7fffffff, 4);
  head[8] = ((opts.priority ?? 0) & 0x7) << 5;
  const flags = (opts.fin ? FLAG_FIN : 0) | (opts.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
  return control(FrameType.SynStream, flags, Buffer.concat([head, block]));
}

export function synReplyFrame(streamId: number, block: Buffer, fin = false): Buffer {
  return control(FrameType.SynReply, fin ? FLAG_FIN : 0, Buffer.concat([u32s(streamId & 0x7fffffff), block]));
}

export function headersFrame(streamId: number, block: Buffer, fin = false): Buffer {
  return control(FrameType.Headers, fin ? FLAG_FIN : 0, Buffer.concat([u32s(streamId & 0x7fffffff), block]));
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return control(FrameType.RstStream, 0, u32s(streamId & 0x7fffffff, status));
}

export function settingsFrame(entries: { id: number; value: number; flags?: number }[]): Buffer {
  const body = Buffer.allocUnsafe(4 + 8 * entries.length);
  body.writeUInt32BE(entries.length, 0);
  entries.forEach((e, i) => {
    body.writeUInt32BE((((e.flags ?? 0) & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, 4 + 8 * i);
    body.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
  });
  return control(FrameType.Settings, 0, body);
}

export function pingFrame(id: number): Buffer {
  return control(FrameType.Ping, 0, u32s(id));
}

export function goAwayFrame(lastGoodStreamId: number, status = 0): Buffer {
  return control(FrameType.GoAway, 0, u32s(lastGoodStreamId & 0x7fffffff, status));
}

export function windowUpdateFrame(streamId: number, delta: number): Buffer {
  return control(FrameType.WindowUpdate, 0, u32s(streamId & 0x7fffffff, delta & 0x7fffffff));
}

function parseControl(type: number, version: number, flags: number, p: Buffer): Frame {
  const need = (n: number) => {
    if (p.length < n) throw new SpdyProtocolError(`SPDY control frame of type ${type} too short (${p.length} bytes)`);
  };
  const id = (o: number) => p.readUInt32BE(o) & 0x7fffffff;
  if (version !== VERSION) return { type: 'unknown', frameType: type, version };
  switch (type) {
    case FrameType.SynStream:
      need(10);
      return { type: 'syn_stream', streamId: id(0), associatedId: id(4), priority: p[8]! >> 5, flags, block: p.subarray(10) };
    case FrameType.SynReply:
      need(4);
      return { type: 'syn_reply', streamId: id(0), flags, block: p.subarray(4) };
    case FrameType.Headers:
      need(4);
      return { type: 'headers', streamId: id(0), flags, block: p.subarray(4) };
    case FrameType.RstStream:
      need(8);
      return { type: 'rst_stream', streamId: id(0), status: p.readUInt32BE(4) };
    case FrameType.Settings: {
      need(4);
      const n = p.readUInt32BE(0);
      need(4 + 8 * n);
      const entries = [];
      for (let i = 0; i < n; i++) {
        const fid = p.readUInt32BE(4 + 8 * i);
        entries.push({ flags: fid >>> 24, id: fid & 0xffffff, value: p.readUInt32BE(8 + 8 * i) });
      }
      return { type: 'settings', flags, entries };
    }
    case FrameType.Ping:
      need(4);
      return { type: 'ping', id: p.readUInt32BE(0) };
    case FrameType.GoAway:
      need(4);
      // SPDY/2 peers send no status; /3 sends one
      return { type: 'goaway', lastGoodStreamId: id(0), status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case FrameType.WindowUpdate:
      need(8);
      return { type: 'window_update', streamId: id(0), delta: p.readUInt32BE(4) & 0x7fffffff };
    default:
      return { type: 'unknown', frameType: type, version };
  }
}

export class SpdyProtocolError extends Error {}

/** Cuts a byte stream into frames: push() what arrives, take the whole frames it returns. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.buf.length >= 8) {
      const length = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + length) break;
      const first = this.buf.readUInt32BE(0);
      const flags = this.buf[4]!;
      const payload = Buffer.from(this.buf.subarray(8, 8 + length));
      this.buf = this.buf.subarray(8 + length);
      if (first & 0x80000000) out.push(parseControl(first & 0xffff, (first >>> 16) & 0x7fff, flags, payload));
      else out.push({ type: 'data', streamId: first & 0x7fffffff, flags, data: payload });
    }
    return out;
  }
}

/** An uncompressed header block: names lowercased (SPDY/3 requires it), values as they are. */
export function encodeHeaderBlock(headers: Headers): Buffer {
  const parts: Buffer[] = [u32s(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32s(n.length), n, u32s(v.length), v);
  }
  return Buffer.concat(parts);
}

/**
 * The first whole header block at the start of `buf`, with its size, or
 * undefined when `buf` holds only part of one. Names come back lowercased;
 * a name given twice keeps its values NUL-joined, as on the wire.
 */
export function decodeHeaderBlock(buf: Buffer): { headers: Headers; size: number } | undefined {
  if (buf.length < 4) return undefined;
  const count = buf.readUInt32BE(0);
  let o = 4;
  const headers: Headers = {};
  for (let i = 0; i < count; i++) {
    if (buf.length < o + 4) return undefined;
    const nl = buf.readUInt32BE(o);
    if (buf.length < o + 8 + nl) return undefined;
    const name = buf.subarray(o + 4, o + 4 + nl).toString('utf8').toLowerCase();
    o += 4 + nl;
    const vl = buf.readUInt32BE(o);
    if (buf.length < o + 4 + vl) return undefined;
    const value = buf.subarray(o + 4, o + 4 + vl).toString('utf8');
    o += 4 + vl;
    headers[name] = name in headers ? `${headers[name]}\0${value}` : value;
  }
  return { headers, size: o };
}
