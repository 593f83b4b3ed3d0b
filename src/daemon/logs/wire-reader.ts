/**
 * `docker logs` over the json-file driver as wire bytes: the history
 * (rotated files first, `--tail` found by reading back from the end), then
 * with `follow` the live file until the container stops or the client goes.
 * Big reads into one reused buffer; each chunk of whole lines becomes one
 * write (see wire-encoder.ts).
 */
import type { JsonFileWriter } from './json-file.js';
import { closeFiles, fileLines, followLines, logFiles, ReadBuffer, type LogFile } from './live-lines.js';
import type { ReadOptions } from './read.js';
import { LogWireEncoder, type WireFormat } from './wire-encoder.js';

export interface WireQuery extends ReadOptions {
  follow: boolean;
}

const READ = 1 << 20;
const NL = 0x0a;

/**
 * Where the last `tail` wanted lines of `files` start, reading blocks back
 * from the end: [file index, offset]. A line not ended yet does not count.
 */
async function tailStart(files: LogFile[], tail: number, enc: LogWireEncoder): Promise<[number, number]> {
  let count = 0;
  for (let f = files.length - 1; f >= 0; f--) {
    const file = files[f]!;
    const size = file.size;
    const fh = file.fh!;
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
  }
  return [0, 0];
}

/**
 * The wire bytes of a container's log as `docker logs` asks for it. With
 * follow, new lines as the writer adds them, until it closes or `signal` aborts.
 */
export async function* logWire(path: string, writer: JsonFileWriter | undefined, q: WireQuery, f: WireFormat, signal: AbortSignal): AsyncGenerator<Buffer> {
  const follow = q.follow && writer !== undefined && !writer.isFinished && !signal.aborted;
  const files = await logFiles(path);
  try {
    const enc = new LogWireEncoder(f, q);
    const rb = new ReadBuffer();
    if (q.tail !== 0) {
      const nonEmpty = files.filter((file) => file.size > 0);
      const [first, at] = q.tail !== undefined && q.tail > 0 ? await tailStart(nonEmpty, q.tail, enc) : [0, 0];
      for (let i = first; i < nonEmpty.length; i++) {
        const file = nonEmpty[i]!;
        // each read's bytes go out before the next read: nothing piles up
        for await (const [buf, e] of fileLines(file, i === first ? at : 0, file.size, rb)) yield* bytes(enc.encode(buf, 0, e));
      }
      enc.pastUntil = false;
    }
    if (!writer || !follow) return;
    const last = files.at(-1);
    for await (const [buf, end] of followLines(path, writer, files, last?.path === path ? last.size : 0, rb, signal)) {
      yield* bytes(enc.encode(buf, 0, end));
      if (enc.pastUntil) return;
    }
  } finally {
    await closeFiles(files);
  }
}

function* bytes(b: Buffer): Generator<Buffer> {
  if (b.length) yield b;
}
