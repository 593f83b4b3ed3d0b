/**
 * Which stored blobs hold a layer: diffID (digest of the uncompressed tar)
 * → the blobs we have for it, as received (uncompressed from import, load
 * and commit; gzip or zstd from a registry), with their media types, plus
 * the uncompressed size. `save` uses it to reproduce a layer's exact
 * bytes; `push` and `pull` use it to skip layers a registry or we already
 * have.
 *
 *   content/diffids/<diffID hex>.json   { diffId, size, blobs: [{ mediaType, digest, size }] }
 *
 * Worked example:
 *
 *   const blobs = new LayerBlobIndex(join(root, 'content'));
 *   await blobs.init();
 *   const { digest, size } = await content.ingest(layerTar);          // blob as received
 *   await blobs.record(diffId, tarSize, { mediaType: MediaType.OciLayer, digest, size });
 *   const entry = await blobs.get(diffId);                           // → its blobs, preferred first
 *   content.read(entry.blobs[0].digest).pipe(...);
 *
 * Each file is rewritten atomically; a crash leaves the old list or the new.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson, TEMP_PREFIX, writeJsonAtomic } from '../../lib/atomic-file.js';
import { KeyedLock } from '../../lib/keyed-lock.js';
import { isSha256Digest, sha256Hex, type Digest } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/image.js';

export interface LayerBlobs {
  diffId: Digest;
  /** Bytes of the uncompressed layer tar. */
  size: number;
  /** Blobs holding this layer, uncompressed ones first. */
  blobs: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>[];
}

export class LayerBlobIndex {
  private readonly dir: string;
  private readonly cache = new Map<Digest, LayerBlobs>();
  private readonly lock = new KeyedLock();

  constructor(contentRoot: string) {
    this.dir = join(contentRoot, 'diffids');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(TEMP_PREFIX)) await rm(join(this.dir, name), { force: true });
    }
  }

  private path(diffId: Digest): string {
    return join(this.dir, `${sha256Hex(diffId)}.json`);
  }

  async get(diffId: Digest): Promise<LayerBlobs | undefined> {
    const hit = this.cache.get(diffId);
    if (hit) return hit;
    if (!isSha256Digest(diffId)) return undefined;
    try {
      const entry = await readJson<LayerBlobs>(this.path(diffId));
      this.cache.set(diffId, entry);
      return entry;
    } catch {
      return undefined;
    }
  }

  /** Adds a blob for a layer (idempotent). */
  async record(diffId: Digest, size: number, blob: LayerBlobs['blobs'][number]): Promise<void> {
    await this.lock.with(diffId, async () => {
      const prev = await this.get(diffId);
      if (prev?.blobs.some((b) => b.digest === blob.digest)) return;
      const blobs = [...(prev?.blobs ?? []), { mediaType: blob.mediaType, digest: blob.digest, size: blob.size }];
      blobs.sort((a, b) => Number(b.digest === diffId) - Number(a.digest === diffId));
      const entry: LayerBlobs = { diffId, size, blobs };
      await writeJsonAtomic(this.path(diffId), entry);
      this.cache.set(diffId, entry);
    });
  }

  /** Forgets blobs that are gone from the content store; drops the entry when none is left. */
  async prune(diffId: Digest, keep: (digest: Digest) => boolean): Promise<void> {
    await this.lock.with(diffId, async () => {
      const prev = await this.get(diffId);
      if (!prev) return;
      const blobs = prev.blobs.filter((b) => keep(b.digest));
      if (blobs.length === prev.blobs.length) return;
      if (blobs.length === 0) {
        this.cache.delete(diffId);
        await rm(this.path(diffId), { force: true });
        return;
      }
      const entry = { ...prev, blobs };
      await writeJsonAtomic(this.path(diffId), entry);
      this.cache.set(diffId, entry);
    });
  }

  async list(): Promise<Digest[]> {
    return (await readdir(this.dir)).filter((n) => /^[a-f0-9]{64}\.json$/.test(n)).map((n) => `sha256:${n.slice(0, 64)}` as Digest);
  }
}
