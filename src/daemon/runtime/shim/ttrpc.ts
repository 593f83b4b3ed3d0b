/**
 * ttrpc, containerd's light RPC: 10-byte frame header (u32 length, u32 stream
 * id, u8 type, u8 flags) + protobuf Request/Response. Client stream ids are odd.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { span } from '../../../lib/spans.js';
import { decode, encode, type Message, type Schema } from './protobuf.js';

const HEADER = 10;
const TYPE_REQUEST = 1;
const TYPE_RESPONSE = 2;
const MAX_MESSAGE = 4 << 20;

const KeyValue: Schema = [
  { no: 1, name: 'key', type: 'string' },
  { no: 2, name: 'value', type: 'string' },
];
const Request: Schema = [
  { no: 1, name: 'service', type: 'string' },
  { no: 2, name: 'method', type: 'string' },
  { no: 3, name: 'payload', type: 'bytes' },
  { no: 4, name: 'timeoutNano', type: 'int64' },
  { no: 5, name: 'metadata', type: KeyValue, repeated: true },
];
const Status: Schema = [
  { no: 1, name: 'code', type: 'int32' },
  { no: 2, name: 'message', type: 'string' },
];
const Response: Schema = [
  { no: 1, name: 'status', type: Status },
  { no: 2, name: 'payload', type: 'bytes' },
];

/** gRPC status codes the shim returns. */
export const GrpcCode = { NotFound: 5, AlreadyExists: 6, FailedPrecondition: 9, Unavailable: 14 } as const;

export class TtrpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

export class TtrpcClosedError extends Error {
  constructor() {
    super('ttrpc: connection closed');
  }
}

function frame(streamId: number, type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUInt32BE(body.length, 0);
  h.writeUInt32BE(streamId, 4);
  h[8] = type;
  h[9] = 0;
  return Buffer.concat([h, body]);
}

/** Splits a byte stream into ttrpc frames. */
function onFrames(socket: Socket, handle: (streamId: number, type: number, body: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= HEADER) {
      const len = buf.readUInt32BE(0);
      if (len > MAX_MESSAGE) {
        socket.destroy(new Error(`ttrpc: message of ${len} bytes exceeds limit`));
        return;
      }
      if (buf.length < HEADER + len) break;
      const streamId = buf.readUInt32BE(4);
      const type = buf[8]!;
      const body = buf.subarray(HEADER, HEADER + len);
      buf = buf.subarray(HEADER + len);
      handle(streamId, type, body);
    }
  });
}

interface Pending {
  resolve: (payload: Buffer) => void;
  reject: (err: Error) => void;
}

export class TtrpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(private readonly socket: Socket) {
    onFrames(socket, (streamId, type, body) => {
      if (type !== TYPE_RESPONSE) return;
      const p = this.pending.get(streamId);
      if (!p) return;
      this.pending.delete(streamId);
      try {
        const res = decode(Response, body) as { status?: { code: number; message: string }; payload: Buffer };
        if (res.status && res.status.code !== 0) p.reject(new TtrpcError(res.status.code, res.status.message));
        else p.resolve(res.payload);
      } catch (err) {
        p.reject(err as Error);
      }
    });
    const fail = () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new TtrpcClosedError());
      this.pending.clear();
    };
    socket.on('close', fail);
    socket.on('error', () => {}); // 'close' follows and fails the calls
  }

  static connect(path: string): Promise<TtrpcClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(new TtrpcClient(s));
      });
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves when the other side has closed the connection (a shim that exits), or after `ms`. */
  whenClosed(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.socket.once('close', done);
    });
  }

  call<T extends Message>(service: string, method: string, reqSchema: Schema, req: Message, resSchema: Schema): Promise<T> {
    return span(`ttrpc ${method}`, () => this.request<T>(service, method, reqSchema, req, resSchema));
  }

  private async request<T extends Message>(service: string, method: string, reqSchema: Schema, req: Message, resSchema: Schema): Promise<T> {
    if (this.closed) throw new TtrpcClosedError();
    const id = this.nextId;
    this.nextId += 2;
    const body = encode(Request, { service, method, payload: encode(reqSchema, req) });
    const payload = await new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(frame(id, TYPE_REQUEST, body));
    });
    return decode(resSchema, payload) as T;
  }

  close(): void {
    this.socket.destroy();
  }
}

export type TtrpcHandler = (service: string, method: string, payload: Buffer) => Promise<Buffer> | Buffer;

/** A ttrpc server (the shims publish events to one). */
export function serveTtrpc(path: string, handler: TtrpcHandler): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    onFrames(socket, (streamId, type, body) => {
      if (type !== TYPE_REQUEST) return;
      void (async () => {
        let res: Message;
        try {
          const req = decode(Request, body) as { service: string; method: string; payload: Buffer };
          res = { payload: await handler(req.service, req.method, req.payload) };
        } catch (err) {
          res = { status: { code: 2, message: (err as Error).message } };
        }
        if (!socket.destroyed) socket.write(frame(streamId, TYPE_RESPONSE, encode(Response, res)));
      })();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}
