/**
 * Reading a json-file log's lines into one reused buffer: the files it has
 * now (rotated ones, oldest first, then the live one) and, to follow, the
 * live file as the writer appends to it, across rotations.
 *
 * Files are told apart by inode, and the live file is followed through its
 * open descriptor, not its path: a rotation renames (or deletes) it under
 * the reader, and a read by path would land in the next file at the old
 * file's offset.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { JsonFileWriter } from './json-file.js';

const READ = 1 << 20;
const NL = 0x0a;

/** A request's read buffer: grows only for a line longer than it. */
export class ReadBuffer {
  buf = Buffer.allocUnsafe(READ);
}

/** A chunk of whole lines: `buf[0, end)`, a view of the read buffer, valid until the next chunk is asked for. */
export type LineChunk = [buf: Buffer, end: number];

/** One file of a log as it was seen; `fh` is set for the live file kept open to follow. */
export interface LogFile {
  path: string;
  size: number;
  ino: number;
  fh?: FileHandle;
}

/** The whole lines of fh[start, end); a line not ended yet is left for later; `done.bytes` says how far the lines went. */
async function* handleLines(fh: FileHandle, start: number, end: number, rb: ReadBuffer, done: { bytes: number }): AsyncGenerator<LineChunk> {
  let pos = start;
  let have = 0; // bytes of a line carried over at the front of the buffer
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
}

/** The whole lines of file[start, end): through its handle, or opened by path (if it is still the same file). */
export async function* fileLines(file: LogFile, start: number, end: number, rb: ReadBuffer, done = { bytes: 0 }): AsyncGenerator<LineChunk> {
  if (file.fh) {
    yield* handleLines(file.fh, start, end, rb, done);
    return;
  }
  const fh = await open(file.path, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    if ((await fh.stat()).ino === file.ino) yield* handleLines(fh, start, end, rb, done);
  } finally {
    await fh.close();
  }
}

async function statOf(path: string): Promise<{ ino: number; size: number } | undefined> {
  return stat(path).catch(() => undefined);
}

/** `<path>.1`, `<path>.2`, ... as they are now, newest first, up to the first missing one. */
async function rotated(path: string): Promise<LogFile[]> {
  const out: LogFile[] = [];
  for (let i = 1; ; i++) {
    const p = `${path}.${i}`;
    const st = await statOf(p);
    if (!st) return out;
    out.push({ path: p, size: st.size, ino: st.ino });
  }
}

/** The file at `path` now, held open. */
async function openFile(path: string): Promise<LogFile | undefined> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  const st = await fh.stat();
  return { path, size: st.size, ino: st.ino, fh };
}

/**
 * A log's files now, oldest first, the live one last (if the writer made it
 * yet), each held open so that a rotation while they are read moves
 * nothing under the reader: close them with closeFiles. The live one is
 * opened first: a rotation after that renamed it to `<path>.k`, and the
 * files newer than it are the follower's.
 */
export async function logFiles(path: string): Promise<LogFile[]> {
  const live = await openFile(path);
  const files: LogFile[] = [];
  try {
    for (let i = 1; ; i++) {
      const f = await openFile(`${path}.${i}`);
      if (!f) break;
      files.push(f);
      if (f.ino === live?.ino) {
        // itself and what is newer: not history
        await closeFiles(files.splice(0));
      }
    }
  } catch (err) {
    await closeFiles([...files, ...(live ? [live] : [])]);
    throw err;
  }
  files.reverse();
  if (live) files.push(live);
  return files;
}

export async function closeFiles(files: LogFile[]): Promise<void> {
  await Promise.all(files.map((f) => f.fh?.close()));
}

/**
 * The live file's lines after `offset` as the writer adds them, until it
 * closes or `signal` aborts. `files` are those the caller read (logFiles
 * with follow): its last one, when it is the live file, is followed from
 * `offset`.
 */
export async function* followLines(path: string, writer: JsonFileWriter, files: LogFile[], offset: number, rb: ReadBuffer, signal: AbortSignal): AsyncGenerator<LineChunk> {
  const last = files.at(-1);
  let cur = last?.path === path ? last : undefined;
  // the newest file read: where the files rotated since begin (ours is held open, so its inode is not reused)
  let newest = last?.ino;
  let pos = cur ? offset : 0;
  try {
    for (;;) {
      const finished = writer.isFinished;
      const seen = writer.changes;
      let progressed = false;
      if (cur) {
        const done = { bytes: 0 };
        for await (const chunk of fileLines(cur, pos, (await cur.fh!.stat()).size, rb, done)) {
          progressed = true;
          yield chunk;
        }
        pos += done.bytes;
      }
      const now = await statOf(path);
      if (now && now.ino !== cur?.ino) {
        // a new file at the path: the writer ended ours before making it, so ours is complete; then come
        // the files rotated after ours (several rotations can pass between two looks), then the new one
        if (cur) {
          const old = cur;
          cur = undefined;
          try {
            yield* fileLines(old, pos, (await old.fh!.stat()).size, rb);
          } finally {
            await old.fh!.close();
          }
        }
        const newer: LogFile[] = [];
        for (const f of await rotated(path)) {
          if (f.ino === newest) break;
          newer.unshift(f);
        }
        for (const f of newer) {
          newest = f.ino;
          yield* fileLines(f, 0, f.size, rb);
        }
        pos = 0;
        const fh = await open(path, 'r').catch(() => undefined);
        const ino = fh && (await fh.stat()).ino;
        if (fh && ino === now.ino) {
          cur = { path, size: 0, ino, fh };
          newest = ino;
        } else {
          await fh?.close(); // rotated again meanwhile: the next look takes the files in order
        }
        continue;
      }
      if (progressed) continue;
      if (finished || signal.aborted) return;
      await nextChange(writer, signal, seen);
    }
  } finally {
    await cur?.fh?.close();
  }
}

/**
 * Resolves on the writer's next 'write', 'close' or 'rotated', or on abort;
 * at once if one came since the reader saw `seen` changes (while it was
 * reading). Leaves no listener behind.
 */
function nextChange(writer: JsonFileWriter, signal: AbortSignal, seen: number): Promise<void> {
  if (writer.changes !== seen) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      writer.off('write', done);
      writer.off('close', done);
      writer.off('rotated', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    writer.on('write', done);
    writer.on('close', done);
    writer.on('rotated', done);
    signal.addEventListener('abort', done);
  });
}
