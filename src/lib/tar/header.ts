/**
 * POSIX tar headers (ustar + PAX + GNU long names): decode and encode.
 * Pure functions over 512-byte blocks; the streaming parts are reader.ts and writer.ts.
 */
export const BLOCK = 512;

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch; PAX headers may carry a fraction. */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** PAX records that are not folded into the fields above (xattrs, atime...). */
  pax: Record<string, string>;
}

export class TarFormatError extends Error {}

const typeByFlag: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};
const flagByType: Record<TarEntryType, string> = {
  file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6',
};

/** Header-only records that describe the next entry rather than being one. */
export type MetaFlag = 'x' | 'g' | 'L' | 'K';
export function metaFlagOf(block: Buffer): MetaFlag | undefined {
  const f = String.fromCharCode(block[156]!);
  return f === 'x' || f === 'g' || f === 'L' || f === 'K' ? f : undefined;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function cstring(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

function readNumber(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    // GNU base-256: big-endian two's complement in the remaining bytes
    // 0xff first: a negative number, which no field berth reads may hold
    if (b[off] === 0xff) throw new TarFormatError('negative tar number field');
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    if (!Number.isSafeInteger(v)) throw new TarFormatError('tar number field out of range');
    return v;
  }
  const s = cstring(b, off, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`invalid tar number field "${s}"`);
  return parseInt(s, 8);
}

function checksumOf(b: Buffer): number {
  let sum = 8 * 32; // the checksum field counts as spaces
  for (let i = 0; i < 148; i++) sum += b[i]!;
  for (let i = 156; i < BLOCK; i++) sum += b[i]!;
  return sum;
}

export function verifyChecksum(b: Buffer): boolean {
  return readNumber(b, 148, 8) === checksumOf(b);
}

/** Decodes a main (non-meta) header block, without PAX or long-name overrides. */
export function decodeHeader(b: Buffer): TarHeader & { flag: string } {
  if (!verifyChecksum(b)) throw new TarFormatError('invalid tar header checksum');
  const flag = String.fromCharCode(b[156]!);
  const type = typeByFlag[flag];
  if (!type) throw new TarFormatError(`unsupported tar entry type "${flag}"`);
  let name = cstring(b, 0, 100);
  const magic = b.toString('latin1', 257, 263);
  if (magic === 'ustar\0') {
    const prefix = cstring(b, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    flag,
    name,
    type,
    mode: readNumber(b, 100, 8) & 0o7777,
    uid: readNumber(b, 108, 8),
    gid: readNumber(b, 116, 8),
    size: type === 'file' ? readNumber(b, 124, 12) : 0,
    mtime: readNumber(b, 136, 12),
    linkname: cstring(b, 157, 100),
    uname: cstring(b, 265, 32),
    gname: cstring(b, 297, 32),
    devmajor: readNumber(b, 329, 8),
    devminor: readNumber(b, 337, 8),
    pax: {},
  };
}

/** Size of a main header's body as stored (a hard link or dir may still declare one). */
export function storedSize(b: Buffer): number {
  return readNumber(b, 124, 12);
}

export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp === -1) break;
    const lenText = data.toString('latin1', off, sp);
    const len = /^[0-9]{1,10}$/.test(lenText) ? Number(lenText) : NaN;
    if (!(len > sp - off + 1) || off + len > data.length) throw new TarFormatError('invalid PAX record');
    const rec = data.subarray(sp + 1, off + len - 1); // drop trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq === -1) throw new TarFormatError('invalid PAX record');
    const key = rec.toString('utf8', 0, eq);
    out[key] = rec.toString(paxValueEncoding(key), eq + 1);
    off += len;
  }
  return out;
}

/** Largest uid/gid: 2^32 - 2 (-1 is "no change" to chown). */
const MAX_ID = 0xfffffffe;

/** A PAX number as the format defines it: decimal digits (mtime may have a fraction and a sign); anything else is a bad archive. */
function paxNumber(key: string, v: string, max: number, time = false): number {
  if (!(time ? /^-?[0-9]{1,20}(\.[0-9]{1,19})?$/ : /^[0-9]{1,20}$/).test(v)) throw new TarFormatError(`invalid PAX ${key} "${v.slice(0, 40)}"`);
  const n = Number(v);
  if (!(Math.abs(n) <= max)) throw new TarFormatError(`PAX ${key} ${v} out of range`);
  return n;
}

/** Folds PAX records (and GNU long names) into a header. */
export function applyPax(h: TarHeader, pax: Record<string, string>): void {
  for (const [k, v] of Object.entries(pax)) {
    switch (k) {
      case 'path': h.name = v; break;
      case 'linkpath': h.linkname = v; break;
      case 'size': if (h.type === 'file') h.size = paxNumber(k, v, Number.MAX_SAFE_INTEGER); break;
      case 'uid': h.uid = paxNumber(k, v, MAX_ID); break;
      case 'gid': h.gid = paxNumber(k, v, MAX_ID); break;
      case 'mtime': h.mtime = paxNumber(k, v, Number.MAX_SAFE_INTEGER, true); break;
      case 'uname': h.uname = v; break;
      case 'gname': h.gname = v; break;
      default: h.pax[k] = v;
    }
  }
}

// ---------------------------------------------------------------- encoding

function writeString(b: Buffer, s: string, off: number, len: number): void {
  b.write(s, off, len, 'utf8');
}

function writeOctal(b: Buffer, v: number, off: number, len: number): void {
  b.write(Math.floor(v).toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

function fitsOctal(v: number, len: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < 8 ** (len - 1);
}

/**
 * An extended attribute's value is bytes, not text (security.capability is
 * binary): kept as a latin1 string, one character a byte, so it goes back
 * out unchanged. Every other PAX value is UTF-8.
 */
function paxValueEncoding(key: string): BufferEncoding {
  return key.startsWith('SCHILY.xattr.') ? 'latin1' : 'utf8';
}

function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value, paxValueEncoding(key)), Buffer.from('\n')]);
  // the length prefix counts its own digits
  let len = body.length;
  while (body.length + String(len).length !== len) len = body.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function splitUstarName(name: string): [prefix: string, name: string] | undefined {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest) return [prefix, rest];
  }
  return undefined;
}

function encodeBlock(h: TarHeader, flag: string, name: string, prefix: string, linkname: string, size: number, typeBits = 0): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeString(b, name, 0, 100);
  writeOctal(b, (h.mode & 0o7777) | typeBits, 100, 8);
  writeOctal(b, fitsOctal(h.uid, 8) ? h.uid : 0, 108, 8);
  writeOctal(b, fitsOctal(h.gid, 8) ? h.gid : 0, 116, 8);
  writeOctal(b, fitsOctal(size, 12) ? size : 0, 124, 12);
  writeOctal(b, fitsOctal(Math.floor(h.mtime), 12) ? Math.floor(h.mtime) : 0, 136, 12);
  b.write(flag, 156, 1, 'latin1');
  writeString(b, linkname, 157, 100);
  b.write('ustar\0', 257, 6, 'latin1');
  b.write('00', 263, 2, 'latin1');
  writeString(b, h.uname, 265, 32);
  writeString(b, h.gname, 297, 32);
  writeOctal(b, h.devmajor, 329, 8);
  writeOctal(b, h.devminor, 337, 8);
  writeString(b, prefix, 345, 155);
  b.write(checksumOf(b).toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

export function headerDefaults(h: Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>): TarHeader {
  return {
    mode: h.type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '',
    uname: '', gname: '', devmajor: 0, devminor: 0, pax: {}, ...h,
  };
}

/**
 * Encodes a header as one ustar block, preceded by a PAX block when a field
 * does not fit ustar (long names, big sizes, xattrs, fractional mtimes).
 */
/**
 * The file-type bits Go's archive/tar (before 1.9, and moby's archive
 * package since, for compatibility) keeps in the mode field: Docker's layer
 * and `cp` tars carry them.
 */
const GO_TYPE_BITS: Record<TarEntryType, number> = {
  file: 0o100000, link: 0o100000, symlink: 0o120000, char: 0o20000, block: 0o60000, dir: 0o40000, fifo: 0o10000,
};

export interface EncodeOptions {
  /** Write the file-type bits in the mode field, as Docker's tars do. */
  typeBits?: boolean;
}

export function encodeHeader(h: TarHeader, opts: EncodeOptions = {}): Buffer {
  const pax: Record<string, string> = { ...h.pax };
  const size = h.type === 'file' ? h.size : 0;
  let split = splitUstarName(h.name);
  if (!split || !/^[\x20-\x7e]*$/.test(h.name)) {
    pax.path = h.name;
    split = ['', h.name.slice(0, 99)];
  }
  let linkname = h.linkname;
  if (Buffer.byteLength(linkname) > 100 || !/^[\x20-\x7e]*$/.test(linkname)) {
    pax.linkpath = linkname;
    linkname = linkname.slice(0, 99);
  }
  if (!fitsOctal(size, 12)) pax.size = String(size);
  if (!fitsOctal(h.uid, 8)) pax.uid = String(h.uid);
  if (!fitsOctal(h.gid, 8)) pax.gid = String(h.gid);
  if (!Number.isInteger(h.mtime) || !fitsOctal(h.mtime, 12)) pax.mtime = String(h.mtime);
  const main = encodeBlock(h, flagByType[h.type], split[1], split[0], linkname, size, opts.typeBits ? GO_TYPE_BITS[h.type] : 0);
  const keys = Object.keys(pax);
  if (keys.length === 0) return main;
  const data = Buffer.concat(keys.map((k) => paxRecord(k, pax[k]!)));
  const paxName = `PaxHeaders/${split[1]}`.slice(0, 99);
  const paxHead = encodeBlock(headerDefaults({ name: paxName, type: 'file' }), 'x', paxName, '', '', data.length);
  return Buffer.concat([paxHead, data, Buffer.alloc(padding(data.length)), main]);
}

export function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
