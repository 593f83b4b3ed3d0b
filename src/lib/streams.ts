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

/** The first of `events` that `emitter` emits, with its argument; leaves no listener behind. */
export function firstEvent(emitter: NodeJS.EventEmitter, events: readonly string[]): Promise<{ event: string; arg: unknown }> {
  return new Promise((resolve) => {
    const handlers = events.map((event) => [event, (arg: unknown) => {
      for (const [e, h] of handlers) emitter.off(e, h);
      resolve({ event, arg });
    }] as const);
    for (const [e, h] of handlers) emitter.on(e, h);
  });
}

/** Resolves once `w` can take more data (`drain`), or is gone and never will. */
export async function whenWritable(w: Writable): Promise<void> {
  if (w.destroyed || w.writableFinished || !w.writableNeedDrain) return;
  await firstEvent(w, ['drain', 'close', 'error']);
}

/**
 * Ends `w` and resolves once every queued byte was handed to the OS (or `w`
 * failed): `destroy()` right after `end()` would drop what is still queued.
 */
export async function endFlushed(w: Writable): Promise<void> {
  if (w.destroyed || w.writableFinished) return;
  const flushed = firstEvent(w, ['finish', 'close', 'error']);
  if (!w.writableEnded) w.end();
  await flushed;
}
