/**
 * `berth build`'s incremental context upload (docs/build.md, "The
 * incremental context"): ask the daemon which file contents it lacks, then
 * send a tar of every entry in which only those files carry bytes; the
 * others are empty entries naming their digest (PAX `BERTH.digest`,
 * `BERTH.size`), assembled by the daemon from its context store.
 *
 *   const body = await incrementalContextTar(client, entries, extras);
 *   // undefined: the daemon has no context store (dockerd, an older berthd): send the whole tar
 */
import type { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { NotFound } from '../errdefs/index.js';
import { headerDefaults, TarWriter } from '../lib/tar/index.js';
import { filesToSend, type ContextEntry } from './context-digests.js';
import type { EngineClient } from './engine-client.js';

/** The header `POST /build` needs to read such a tar. */
export const INCREMENTAL_CONTEXT_HEADER = { 'X-Berth-Context': 'incremental' };

/** `extras`: files outside the context dir sent whole (a Dockerfile from elsewhere). */
export async function incrementalContextTar(c: EngineClient, entries: ContextEntry[], extras: { name: string; body: Buffer }[] = []): Promise<Readable | undefined> {
  const digests = [...new Set(entries.filter((e) => e.hex).map((e) => `sha256:${e.hex}`))];
  let missing: string[];
  try {
    missing = (await c.json<{ Missing: string[] | null }>('POST', '/build/context-manifest', { body: { Digests: digests } })).Missing ?? [];
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
  const send = filesToSend(entries, new Set(missing.map((d) => d.replace(/^sha256:/, ''))));
  const tar = new TarWriter();
  void (async () => {
    try {
      for (const e of entries) {
        if (!e.hostPath) await tar.add(e.header);
        else if (send.has(e)) await tar.add(e.header, createReadStream(e.hostPath));
        else await tar.add({ ...e.header, size: 0, pax: { ...e.header.pax, 'BERTH.digest': `sha256:${e.hex}`, 'BERTH.size': String(e.header.size) } });
      }
      for (const x of extras) await tar.add(headerDefaults({ name: x.name, type: 'file', size: x.body.length, mode: 0o644 }), x.body);
      await tar.finish();
    } catch (err) {
      tar.abort(err as Error);
    }
  })();
  return tar.stream;
}
