/**
 * A gzip member (RFC 1952) whose deflate stream is only stored blocks
 * (RFC 1951 §3.2.4): for bytes that do not compress, the cheapest valid
 * gzip. zlib at level 0 costs ~130 MB/s here (it still runs its window
 * machinery, and its output is gathered and joined); this is one copy of
 * the input plus its CRC-32, several times faster.
 */
import { crc32 } from 'node:zlib';

/** Largest stored block: LEN is 16 bits. */
const MAX_BLOCK = 0xffff;
/** ID1 ID2, CM=deflate, no flags, MTIME 0, XFL 0, OS=unix (what zlib writes). */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

/** `parts` (together `size` bytes) as one gzip member in stored blocks. */
export function storedGzipMember(parts: Buffer[], size: number): Buffer {
  const blocks = Math.max(1, Math.ceil(size / MAX_BLOCK));
  const out = Buffer.allocUnsafe(HEADER.length + blocks * 5 + size + 8);
  HEADER.copy(out, 0);
  let o = HEADER.length;
  let left = size;
  let pi = 0;
  let po = 0;
  for (let b = 0; b < blocks; b++) {
    const n = Math.min(MAX_BLOCK, left);
    left -= n;
    out[o] = left === 0 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    out.writeUInt16LE(n, o + 1);
    out.writeUInt16LE(~n & 0xffff, o + 3);
    o += 5;
    for (let need = n; need > 0;) {
      const p = parts[pi]!;
      const take = Math.min(need, p.length - po);
      p.copy(out, o, po, po + take);
      o += take;
      po += take;
      need -= take;
      if (po === p.length) {
        pi++;
        po = 0;
      }
    }
  }
  let crc = 0;
  for (const p of parts) crc = crc32(p, crc);
  out.writeUInt32LE(crc >>> 0, o);
  out.writeUInt32LE(size % 2 ** 32, o + 4); // ISIZE: the length modulo 2^32
  return out;
}
