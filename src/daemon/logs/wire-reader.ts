/**
 * `docker logs` over the json-file driver as wire bytes: the history
 * (rotated files first, `--tail` found by reading back from the end), then
 * with `follow` the live file until the container stops or the client goes.
 * Big reads into one reused buffer; each chunk of whole lines becomes one
 * write (see wire-encoder.ts).
 */
import { open, stat } from 'node:fs/promises';
import { nextChange, rotatedFiles, type JsonFileWriter, type ReadOptions } from './json-file.js';
import { LogWireEncoder, type WireFormat } from './wire-encoder.js';

export interface WireQuery extends ReadOptions {
  follow: boolean;
}

const READ = 1 << 20;
const NL = 0x0a;

/** A request's read buffer: grows only for a line longer than it. */
class ReadBuffer {
  buf = Buffer.allocUnsafe(READ);
}

/**
 * The whole lines of path[start, end) as views of the reused read buffer:
 * use each before asking for the next. A line not ended yet is left for
 * later; `done.bytes` says how far the lines went.
 */
async function* lineChunks(path: string, start: number, end: number, rb: ReadBuffer, done = { bytes: 0 }): AsyncGenerator<[Buffer, number]> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return;
  let pos = start;
  let have = 0; // bytes of a line carried over at the front of the buffer
  try {
    while (pos < end) {
      if (have === rb.buf.length) {
        const bigger = Buffer.allocUnsafe(rb.buf.length * 2);
        rb.buf.copy(bigger, 0, 0, have);
        rb.buf = bigger;
      }
      const { bytesRead } = await fh.read(rb.buf, have, Math.min(rb.buf.length - have, end - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const len = have + bytesRead;
      const last = rb.buf.lastIndexOf(NL, len - 1);
      if (last === -1) {
        have = len;
        continue;
      }
      done.bytes = pos - start - (len - last - 1);
      yield [rb.buf, last + 1];
      have = len - last - 1;
      rb.buf.copy(rb.buf, 0, last + 1, len);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Where the last `tail` wanted lines of `files` start, reading blocks back
 * from the end: [file index, offset]. A line not ended yet does not count.
 */
async function tailStart(files: [string, number][], tail: number, enc: LogWireEncoder): Promise<[number, number]> {
  let count = 0;
  for (let f = files.length - 1; f >= 0; f--) {
    const [path, size] = files[f]!;
    const fh = await open(path, 'r');
    try {
      let data = Buffer.alloc(0);
      let base = size; // file offset of data[0]
      let end: number | undefined; // data index just after the newline that ends the next line back
      for (;;) {
        if (end === undefined) {
          const nl = data.lastIndexOf(NL);
          if (nl !== -1) end = nl + 1;
        }
        if (end !== undefined) {
          const nl = end >= 2 ? data.lastIndexOf(NL, end - 2) : -1;
          if (nl !== -1 || base === 0) {
            const s = nl + 1;
            if (enc.wanted(data, s, end - 1) && ++count === tail) return [f, base + s];
            end = s;
            if (s === 0 && base === 0) break;
            continue;
          }
        }
        if (base === 0) break;
        // the block before, joined to what is not split yet (at most one line)
        const n = Math.min(READ, base);
        const block = Buffer.allocUnsafe(n);
        await fh.read(block, 0, n, base - n);
        data = Buffer.concat([block, data.subarray(0, end ?? data.length)]);
        base -= n;
        if (end !== undefined) end += n;
      }
    } finally {
      await fh.close();
    }
  }
  return [0, 0];
}

/**
 * The wire bytes of a container's log as `docker logs` asks for it. With
 * follow, new lines as the writer adds them, until it closes or `signal` aborts.
 */
export async function* logWire(path: string, writer: JsonFileWriter | undefined, q: WireQuery, f: WireFormat, signal: AbortSignal): AsyncGenerator<Buffer> {
  // the rotation count is taken before reading, so a rotation during the read is seen by the follower
  const generation = writer?.generation ?? 0;
  const enc = new LogWireEncoder(f, q);
  const rb = new ReadBuffer();
  let offset = 0;
  if (q.tail === 0) {
    offset = await stat(path).then((s) => s.size, () => 0);
  } else {
    const files: [string, number][] = [];
    for (const p of [...(await rotatedFiles(path)), path]) {
      const size = await stat(p).then((s) => s.size, () => 0);
      if (size > 0) files.push([p, size]);
      if (p === path) offset = size;
    }
    const [first, at] = q.tail !== undefined && q.tail > 0 ? await tailStart(files, q.tail, enc) : [0, 0];
    for (let i = first; i < files.length; i++) {
      const [p, size] = files[i]!;
      // each read's bytes go out before the next read: nothing piles up
      for await (const [buf, e] of lineChunks(p, i === first ? at : 0, size, rb)) yield* nonEmpty(enc.encode(buf, 0, e));
    }
    enc.pastUntil = false;
  }
  if (!q.follow || !writer || writer.isClosed || signal.aborted) return;
  yield* follow(path, writer, enc, rb, offset, signal, generation);
}

function* nonEmpty(bytes: Buffer): Generator<Buffer> {
  if (bytes.length) yield bytes;
}

async function* follow(path: string, writer: JsonFileWriter, enc: LogWireEncoder, rb: ReadBuffer, offset: number, signal: AbortSignal, generation: number): AsyncGenerator<Buffer> {
  let pos = offset;
  let gen = generation;
  for (;;) {
    const closed = writer.isClosed;
    if (writer.generation !== gen) {
      // the file we were reading was rotated to <path>.N (N rotations since): finish it, then
      // the files rotated after it, then start the new one; a burst can rotate more than once
      // between two reads, and a file rotated out of max-file is gone
      const jumped = writer.generation - gen;
      gen = writer.generation;
      for (let k = jumped; k >= 1; k--) {
        const p = `${path}.${k}`;
        const from = k === jumped ? pos : 0;
        const size = await stat(p).then((s) => s.size, () => 0);
        if (size > from) for await (const [buf, e] of lineChunks(p, from, size, rb)) yield* nonEmpty(enc.encode(buf, 0, e));
        if (enc.pastUntil) return;
      }
      pos = 0;
    }
    const size = (await stat(path).catch(() => ({ size: pos }))).size;
    if (size > pos) {
      const done = { bytes: 0 };
      for await (const [buf, e] of lineChunks(path, pos, size, rb, done)) yield* nonEmpty(enc.encode(buf, 0, e));
      pos += done.bytes;
      if (enc.pastUntil) return;
      continue;
    }
    if (closed || signal.aborted) return;
    await nextChange(writer, signal);
  }
}
