/**
 * A gzip member (RFC 1952) whose deflate stream is only stored blocks
 * (RFC 1951 §3.2.4): for bytes that do not compress, the cheapest valid
 * gzip. zlib at level 0 costs ~130 MB/s here (it still runs its window
 * machinery, and its output is gathered and joined); this is the input's
 * CRC-32 and a few header bytes, the input itself passed on as views.
 */
import { crc32 } from 'node:zlib';

/** Largest stored block: LEN is 16 bits. */
const MAX_BLOCK = 0xffff;
/** ID1 ID2, CM=deflate, no flags, MTIME 0, XFL 0, OS=unix (what zlib writes). */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

/**
 * `parts` (together `size` bytes) as one gzip member in stored blocks: the
 * pieces to write in order, block heads and trailer made here, the bytes as
 * views of `parts` (no copy: a copy of every byte was a sixth of a push's
 * main-thread time).
 */
export function storedGzipMember(parts: Buffer[], size: number): Buffer[] {
  const blocks = Math.max(1, Math.ceil(size / MAX_BLOCK));
  const heads = Buffer.allocUnsafe(HEADER.length + blocks * 5 + 8);
  HEADER.copy(heads, 0);
  const out: Buffer[] = [];
  let h = HEADER.length;
  let left = size;
  let pi = 0;
  let po = 0;
  for (let b = 0; b < blocks; b++) {
    const n = Math.min(MAX_BLOCK, left);
    left -= n;
    heads[h] = left === 0 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    heads.writeUInt16LE(n, h + 1);
    heads.writeUInt16LE(~n & 0xffff, h + 3);
    // the gzip header travels with the first block's head
    out.push(heads.subarray(b === 0 ? 0 : h, h + 5));
    h += 5;
    for (let need = n; need > 0;) {
      const p = parts[pi]!;
      const take = Math.min(need, p.length - po);
      out.push(p.subarray(po, po + take));
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
  heads.writeUInt32LE(crc >>> 0, h);
  heads.writeUInt32LE(size % 2 ** 32, h + 4); // ISIZE: the length modulo 2^32
  out.push(heads.subarray(h, h + 8));
  return out;
}
