/**
 * Downloads one blob into the content store, hashing as it writes. A
 * connection that drops mid-body is resumed with a `Range` request from the
 * bytes already written; the blob is published only if every byte matches
 * its digest and size.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemError } from '../../errdefs/index.js';
import type { Descriptor } from '../../oci/image.js';
import type { ContentStore, ContentWriter, WriteResult } from '../content/content-store.js';
import { TransportError } from './http.js';
import type { RepositoryClient } from './registry-client.js';

export const DOWNLOAD_RETRIES = 5;

export interface DownloadOptions {
  onBytes?: (written: number) => void;
  signal?: AbortSignal;
  /** Pause before retry n (1-based); short in tests. */
  backoffMs?: (attempt: number) => number;
  /**
   * Also gets every byte, in order, as it arrives (a pull unpacks while it
   * downloads), and is ended after the last one. A sink that is destroyed
   * is dropped and the download goes on; a download that must start over
   * (the registry ignored the range) destroys it with `DownloadRestarted`.
   * It receives unverified bytes: its reader must wait for the digest.
   */
  sink?: Writable;
}

/** The sink saw bytes that the registry then sent again from the first one: what it made is not the blob. */
export class DownloadRestarted extends Error {
  constructor() {
    super('the download started over');
  }
}

/** Resolves when `s` can take more, or will never take any. */
function drained(s: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    s.on('drain', done).on('close', done).on('error', done);
  });
}

export async function downloadBlob(repo: RepositoryClient, content: ContentStore, desc: Pick<Descriptor, 'digest' | 'size'>, opts: DownloadOptions = {}): Promise<WriteResult> {
  let w: ContentWriter = content.writer();
  let sink = opts.sink;
  // bytes handed to the writer (its own count lags while writes are queued): where a resume starts
  let received = 0;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await repo.blob(desc.digest, received);
        if (received > 0 && res.statusCode !== 206) {
          // the registry ignored the range: start again from the first byte
          await w.discard();
          w = content.writer();
          received = 0;
          sink?.destroy(new DownloadRestarted());
          sink = undefined;
        }
        for await (const chunk of res as AsyncIterable<Buffer>) {
          if (received + chunk.length > desc.size) {
            res.destroy();
            throw new SystemError('registry.blob_size', `filesystem layer verification failed for digest ${desc.digest}: the registry sent more than ${desc.size} bytes`);
          }
          received += chunk.length;
          if (!w.write(chunk)) await once(w, 'drain');
          if (sink && !sink.destroyed && !sink.write(chunk) && !sink.destroyed) await drained(sink);
          opts.onBytes?.(received);
        }
        if (received < desc.size) throw new TransportError(new URL(repo.origin), new Error(`connection closed after ${received} of ${desc.size} bytes`));
        break;
      } catch (err) {
        if (!isTransient(err) || attempt + 1 >= DOWNLOAD_RETRIES || opts.signal?.aborted) throw err;
        await sleep(opts.backoffMs?.(attempt + 1) ?? 500 * (attempt + 1));
      }
    }
    w.end();
    await finished(w);
    if (sink && !sink.destroyed) sink.end();
  } catch (err) {
    sink?.destroy(err as Error);
    await w.discard();
    throw err;
  }
  try {
    return await w.commit({ digest: desc.digest, size: desc.size });
  } catch (err) {
    throw new SystemError('registry.blob_digest', `filesystem layer verification failed for digest ${desc.digest}: ${(err as Error).message}`);
  }
}

/** A dropped or reset connection, or a body cut short: worth retrying. */
function isTransient(err: unknown): boolean {
  if (err instanceof TransportError) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || (err as Error).message === 'aborted';
}
