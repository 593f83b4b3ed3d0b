/**
 * Frames spoken with native/berth-spawner (its header documents the same
 * layout): each frame is `u32 length` (little endian) and then the bytes.
 *
 *   request  = u32 id, u8 op, payload        (encodeRequest)
 *   response = u32 id, i32 errno, i32 exit code (-1 if signalled),
 *              i32 signal, str stdout, str stderr (FrameReader + decodeResponse)
 *   str      = u32 length + bytes
 */
export const enum Op {
  Spawn = 1,
  Mount = 2,
  Umount = 3,
  Netns = 4,
  Xattrs = 5,
}

export interface SpawnRequest {
  op: Op.Spawn;
  cmd: string;
  /** argv[0] first */
  argv: readonly string[];
  cwd?: string;
  env: readonly string[];
  /** undefined: stdin is /dev/null */
  input?: Uint8Array;
  detached?: boolean;
  /** The program's stdout goes to this path (opened O_WRONLY: a FIFO the caller reads); the response then has none. */
  outputPath?: string;
  /** With outputPath: stderr goes there too (interleaved, as a terminal shows them). */
  stderrToOutput?: boolean;
  /** The program's stdin is this path (opened O_RDONLY: a FIFO the caller writes); not with `input`. */
  inputPath?: string;
}
export interface MountRequest { op: Op.Mount; source: string; target: string; fstype: string; flags: number; data: string }
export interface UmountRequest { op: Op.Umount; target: string; flags: number }
export interface NetnsRequest { op: Op.Netns; target: string }
/** trusted.overlay.opaque and security.capability of each path (lgetxattr); decodeXattrs reads the answer. */
export interface XattrsRequest { op: Op.Xattrs; paths: readonly string[] }
export type Request = SpawnRequest | MountRequest | UmountRequest | NetnsRequest | XattrsRequest;

export interface Response {
  id: number;
  /** errno of the failed syscall (exec, mount, ...); 0 when it worked */
  errno: number;
  /** the program's exit code; -1 when a signal ended it */
  exitCode: number;
  signal: number;
  stdout: Buffer;
  /** the program's stderr; for syscall requests, the name of the failed step */
  stderr: Buffer;
}

/** Largest frame either side accepts (the helper's MAX_FRAME). */
export const MAX_FRAME = 256 * 1024 * 1024;

class Writer {
  private parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  u32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  str(s: string | Uint8Array): this {
    const b = typeof s === 'string' ? Buffer.from(s) : Buffer.from(s.buffer, s.byteOffset, s.byteLength);
    this.u32(b.length);
    this.parts.push(b);
    return this;
  }
  frame(): Buffer {
    const body = Buffer.concat(this.parts);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(body.length);
    return Buffer.concat([head, body]);
  }
}

export function encodeRequest(id: number, req: Request): Buffer {
  const w = new Writer().u32(id).u8(req.op);
  switch (req.op) {
    case Op.Spawn:
      w.u8((req.detached ? 1 : 0) | (req.input !== undefined ? 2 : 0) | (req.outputPath !== undefined ? 4 : 0) | (req.stderrToOutput ? 8 : 0) | (req.inputPath !== undefined ? 16 : 0)).str(req.cmd).str(req.cwd ?? '');
      w.u32(req.argv.length);
      for (const a of req.argv) w.str(a);
      w.u32(req.env.length);
      for (const e of req.env) w.str(e);
      w.str(req.input ?? '');
      if (req.outputPath !== undefined) w.str(req.outputPath);
      if (req.inputPath !== undefined) w.str(req.inputPath);
      break;
    case Op.Mount:
      w.str(req.source).str(req.target).str(req.fstype).u32(req.flags).str(req.data);
      break;
    case Op.Umount:
      w.str(req.target).u32(req.flags);
      break;
    case Op.Netns:
      w.str(req.target);
      break;
    case Op.Xattrs:
      w.u32(req.paths.length);
      for (const p of req.paths) w.str(p);
      break;
  }
  const f = w.frame();
  if (f.length - 4 > MAX_FRAME) throw new RangeError(`spawner request of ${f.length} bytes exceeds ${MAX_FRAME}`);
  return f;
}

/** Cuts a byte stream into frame bodies, whatever the chunk boundaries. */
export class FrameReader {
  private pending: Buffer[] = [];
  private size = 0;

  /** Adds a chunk; returns the frame bodies it completes. Throws on a length no frame can have. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.size += chunk.length;
    const out: Buffer[] = [];
    while (this.size >= 4) {
      let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [buf];
      const len = buf.readUInt32LE(0);
      if (len > MAX_FRAME) throw new RangeError(`spawner frame of ${len} bytes`);
      if (this.size < 4 + len) break;
      out.push(buf.subarray(4, 4 + len));
      buf = buf.subarray(4 + len);
      this.pending = buf.length ? [buf] : [];
      this.size = buf.length;
    }
    return out;
  }
}

export function decodeResponse(body: Buffer): Response {
  let at = 0;
  const u32 = (): number => {
    if (at + 4 > body.length) throw new RangeError('short spawner response');
    const v = body.readUInt32LE(at);
    at += 4;
    return v;
  };
  const i32 = (): number => u32() | 0;
  const bytes = (): Buffer => {
    const n = u32();
    if (at + n > body.length) throw new RangeError('short spawner response');
    const b = body.subarray(at, at + n);
    at += n;
    return b;
  };
  return { id: u32(), errno: i32(), exitCode: i32(), signal: i32(), stdout: bytes(), stderr: bytes() };
}

/** What an Xattrs answer says of each path, in the order asked. */
export interface PathXattrs {
  opaque: boolean;
  /** security.capability's value, if set. */
  capability?: Buffer;
}

export function decodeXattrs(stdout: Buffer, count: number): PathXattrs[] {
  const out: PathXattrs[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 5 > stdout.length) throw new RangeError('short xattrs answer');
    const opaque = stdout[at] === 1;
    const n = stdout.readUInt32LE(at + 1);
    at += 5;
    if (at + n > stdout.length) throw new RangeError('short xattrs answer');
    out.push(n ? { opaque, capability: stdout.subarray(at, at + n) } : { opaque });
    at += n;
  }
  return out;
}
