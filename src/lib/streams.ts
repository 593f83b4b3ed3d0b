import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/**
 * Copies `source` into every destination, at the pace of the slowest, then
 * ends them. A failing source or destination destroys all of them.
 */
export async function tee(source: Readable | AsyncIterable<Buffer>, destinations: Writable[]): Promise<void> {
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const waits: Promise<unknown>[] = [];
      for (const d of destinations) {
        if (d.destroyed) throw new Error('tee: destination closed early');
        if (!d.write(chunk)) waits.push(once(d, 'drain'));
      }
      if (waits.length) await Promise.all(waits);
    }
    for (const d of destinations) d.end();
  } catch (err) {
    for (const d of destinations) d.destroy(err as Error);
    throw err;
  }
}

/** Reads a whole small stream (request bodies of bounded size). */
export async function readAll(source: AsyncIterable<Buffer>, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of source) {
    n += c.length;
    if (n > limit) throw new Error(`input exceeds ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/**
 * Consumes a paused readable that may already have ended (a hijacked socket
 * whose peer half-closed before anyone listened): `onEnd` runs either way.
 */
export function consume(stream: Readable, onData: (chunk: Buffer) => void, onEnd: () => void): void {
  if (stream.readableEnded) {
    onEnd();
    return;
  }
  stream.on('data', onData);
  stream.once('end', onEnd);
  stream.resume();
}

/** Resolves once `w` can take more data (`drain`), or is gone and never will. */
export function whenWritable(w: Writable): Promise<void> {
  if (w.destroyed || w.writableFinished || !w.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
  });
}

/**
 * Ends `w` and resolves once every queued byte was handed to the OS (or `w`
 * failed): `destroy()` right after `end()` would drop what is still queued.
 */
export function endFlushed(w: Writable): Promise<void> {
  if (w.destroyed || w.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      w.off('finish', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('finish', done);
    w.on('close', done);
    w.on('error', done);
    if (!w.writableEnded) w.end();
  });
}
