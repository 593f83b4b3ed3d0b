/**
 * Gzip for pushing layers, built for speed on two cores: the input is cut
 * into 4 MiB windows, each compressed as its own gzip member on the zlib
 * thread pool (two at a time, output in order), so compression uses more
 * than one core. A window whose samples all look random (already compressed
 * files, random data) is stored rather than deflated: level 1 runs at
 * ~40 MB/s per core here and saves nothing on such bytes. Stored members
 * are written here (stored-gzip.ts): block heads around views of the
 * window's chunks, passed on as they are.
 *
 * Concatenated members are one valid gzip stream (RFC 1952 §2.2); Go's,
 * zlib's and GNU gzip's readers all decode them as the joined bytes.
 */
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { storedGzipMember } from './stored-gzip.js';

const gzipAsync = promisify(gzip);
const WINDOW = 4 << 20;
const SAMPLE = 16 << 10;
const SAMPLES = 4;
const IN_FLIGHT = 2;
/** Bits per byte above which deflate gains (almost) nothing. */
const INCOMPRESSIBLE = 7.9;

export function adaptiveGzip(source: Readable): Readable {
  const out = Readable.from(members(source), { objectMode: false });
  out.once('close', () => source.destroy());
  return out;
}

async function* members(source: Readable): AsyncGenerator<Buffer> {
  const pending: Promise<Buffer[]>[] = [];
  let parts: Buffer[] = [];
  let size = 0;
  let started = false;
  const compress = () => {
    const window = parts;
    const n = size;
    parts = [];
    size = 0;
    started = true;
    const p = looksRandom(window, n) ? Promise.resolve(storedGzipMember(window, n)) : gzipAsync(Buffer.concat(window, n), { level: 1 }).then((b) => [b]);
    p.catch(() => {}); // awaited in order below; this only keeps an early failure from being "unhandled"
    pending.push(p);
  };
  for await (const chunk of source as AsyncIterable<Buffer>) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= WINDOW) {
      compress();
      if (pending.length >= IN_FLIGHT) yield* await pending.shift()!;
    }
  }
  if (size > 0 || !started) compress(); // an empty layer is still one (empty) gzip member
  while (pending.length) yield* await pending.shift()!;
}

/** Samples spread over the window all look random: storing loses (almost) nothing. */
function looksRandom(parts: Buffer[], size: number): boolean {
  const step = Math.max(SAMPLE, Math.floor(size / SAMPLES));
  for (let at = 0; at < size; at += step) {
    if (entropy(slice(parts, at, Math.min(SAMPLE, size - at))) <= INCOMPRESSIBLE) return false;
  }
  return true;
}

/** `len` bytes at offset `at` of the joined parts (a view when one part holds them). */
function slice(parts: Buffer[], at: number, len: number): Buffer {
  let i = 0;
  while (at >= parts[i]!.length) at -= parts[i++]!.length;
  const first = parts[i]!;
  if (at + len <= first.length) return first.subarray(at, at + len);
  const out = Buffer.allocUnsafe(len);
  for (let o = 0; o < len; i++, at = 0) o += parts[i]!.copy(out, o, at, Math.min(parts[i]!.length, at + len - o));
  return out;
}

/** Shannon entropy of the bytes, in bits per byte (0..8). */
export function entropy(b: Buffer): number {
  if (b.length === 0) return 0;
  const counts = new Uint32Array(256);
  for (let i = 0; i < b.length; i++) counts[b[i]!]!++;
  let h = 0;
  for (const c of counts) {
    if (!c) continue;
    const p = c / b.length;
    h -= p * Math.log2(p);
  }
  return h;
}
