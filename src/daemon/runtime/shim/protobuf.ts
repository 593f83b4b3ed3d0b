/**
 * The small protobuf (proto3) codec the shim's ttrpc API needs: scalar
 * varints, strings, bytes, nested messages, repeated fields. Messages are
 * described as data (`Schema`) instead of generated code.
 */
export type Scalar = 'string' | 'bytes' | 'bool' | 'uint32' | 'int32' | 'int64' | 'uint64' | 'enum';
export interface Field {
  no: number;
  name: string;
  type: Scalar | Schema;
  repeated?: boolean;
}
export type Schema = readonly Field[];
export type Message = Record<string, unknown>;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

class Writer {
  private readonly parts: Buffer[] = [];
  private buf = Buffer.alloc(64);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.parts.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.alloc(Math.max(64, n));
    this.pos = 0;
  }
  varint(v: bigint): void {
    this.ensure(10);
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }
  bytes(b: Uint8Array): void {
    this.varint(BigInt(b.length));
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  finish(): Buffer {
    this.parts.push(this.buf.subarray(0, this.pos));
    return Buffer.concat(this.parts);
  }
}

function encodeValue(w: Writer, f: Field, v: unknown): void {
  const t = f.type;
  if (typeof t !== 'string') {
    w.varint(BigInt((f.no << 3) | WIRE_LEN));
    w.bytes(encode(t, v as Message));
    return;
  }
  if (t === 'string' || t === 'bytes') {
    w.varint(BigInt((f.no << 3) | WIRE_LEN));
    w.bytes(t === 'string' ? Buffer.from(String(v)) : (v as Uint8Array));
    return;
  }
  w.varint(BigInt((f.no << 3) | WIRE_VARINT));
  w.varint(t === 'bool' ? (v ? 1n : 0n) : BigInt(v as number | bigint));
}

function isDefault(f: Field, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof f.type !== 'string') return false;
  return v === '' || v === 0 || v === 0n || v === false || (v instanceof Uint8Array && v.length === 0);
}

export function encode(schema: Schema, msg: Message): Buffer {
  const w = new Writer();
  for (const f of schema) {
    const v = msg[f.name];
    if (f.repeated) {
      for (const item of (v as unknown[] | undefined) ?? []) encodeValue(w, f, item);
    } else if (!isDefault(f, v)) {
      encodeValue(w, f, v);
    }
  }
  return w.finish();
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('protobuf: varint too long');
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error('protobuf: truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
}

function decodeScalar(t: Scalar, raw: bigint): unknown {
  switch (t) {
    case 'bool': return raw !== 0n;
    case 'int32': return Number(BigInt.asIntN(32, raw));
    case 'int64': return Number(BigInt.asIntN(64, raw));
    default: return Number(raw); // uint32, uint64 (exit codes, pids, sizes fit), enum
  }
}

/** Decodes a message; absent fields get proto3 defaults, unknown fields are skipped. */
export function decode(schema: Schema, buf: Buffer): Message {
  const out: Message = {};
  const byNo = new Map(schema.map((f) => [f.no, f]));
  for (const f of schema) {
    if (f.repeated) out[f.name] = [];
    else if (typeof f.type !== 'string') out[f.name] = undefined;
    else out[f.name] = f.type === 'string' ? '' : f.type === 'bytes' ? Buffer.alloc(0) : f.type === 'bool' ? false : 0;
  }
  const r = new Reader(buf);
  while (r.pos < buf.length) {
    const key = Number(r.varint());
    const f = byNo.get(key >>> 3);
    const wire = key & 7;
    if (!f) {
      r.skip(wire);
      continue;
    }
    let v: unknown;
    if (typeof f.type !== 'string') v = decode(f.type, r.bytes());
    else if (f.type === 'string') v = r.bytes().toString('utf8');
    else if (f.type === 'bytes') v = Buffer.from(r.bytes());
    else if (wire === WIRE_LEN && f.repeated) {
      // packed repeated scalars
      const inner = new Reader(r.bytes());
      while (inner.pos < inner.buf.length) (out[f.name] as unknown[]).push(decodeScalar(f.type, inner.varint()));
      continue;
    } else v = decodeScalar(f.type, r.varint());
    if (f.repeated) (out[f.name] as unknown[]).push(v);
    else out[f.name] = v;
  }
  return out;
}
