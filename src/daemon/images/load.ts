/**
 * `docker load`: reads an image archive in one streaming pass, every file
 * going into the content store (hashed and verified on the way), then
 * unpacks the layers and writes the image records, tags last.
 *
 * All or nothing: a failure deletes the blobs and layers this load added
 * and leaves no record; a crash leaves only unreferenced blobs and layers
 * (and temp files), which the start-up sweep (gc.ts) removes. A record is
 * written only once its config and every layer are in place, and tags
 * only after every record of the archive.
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { JSONMessage } from '../../api/types/index.js';
import { InvalidParameter } from '../../errdefs/index.js';
import { shortId } from '../../lib/ids.js';
import { readTar, TarFormatError } from '../../lib/tar/index.js';
import { chainIds, checkImageConfig, MediaType, type Digest, type ImageConfig } from '../../oci/index.js';
import type { ContentStore, ContentWriter } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import { decompressed, type Compression } from '../layers/decompress.js';
import type { LayerStore } from '../layers/layer-store.js';
import { cleanEntryPath } from '../layers/paths.js';
import { InvalidArchiveError, planArchive, type ArchiveFile, type ArchiveIndex, type ImagePlan } from './archive-manifest.js';
import type { ImageStore } from './image-store.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';

export interface LoadDeps {
  content: ContentStore;
  layerBlobs: LayerBlobIndex;
  layers: LayerStore;
  images: ImageStore;
  /** Debug lines for what a rollback could not remove. */
  log?: Logger;
}

export interface LoadedImage {
  id: Digest;
  tags: string[];
}

/** Files this size or smaller are kept in memory too (index files, configs, manifests). */
const KEEP_IN_MEMORY = 4 << 20;
const KEEP_TOTAL = 64 << 20;

/** What a load added, so a failure can take it back. */
class LoadTransaction {
  readonly blobs = new Set<Digest>();
  readonly layers: Digest[] = [];

  constructor(private readonly d: LoadDeps) {}

  /** After success: the archive's own files (index.json, manifests, repositories...) are not kept. */
  async dropUnused(keep: Set<Digest>): Promise<void> {
    for (const digest of this.blobs) if (!keep.has(digest)) await this.d.content.delete(digest).catch(cleanupFailed(this.d.log, 'drop an archive file', { digest }));
  }

  async rollback(): Promise<void> {
    const used = new Set<Digest>();
    for (const img of this.d.images.list()) for (const c of chainIds(img.config.rootfs.diff_ids)) used.add(c);
    for (const chain of [...this.layers].reverse()) if (!used.has(chain)) await this.d.layers.remove(chain).catch(cleanupFailed(this.d.log, 'remove a loaded layer', { chain }));
    const referenced = new Set<Digest>(this.d.images.list().map((i) => i.id));
    for (const digest of this.blobs) {
      if (referenced.has(digest)) continue;
      await this.d.content.delete(digest).catch(cleanupFailed(this.d.log, 'remove a loaded blob', { digest }));
    }
  }
}

export async function loadArchive(d: LoadDeps, body: Readable, progress: (m: JSONMessage) => void): Promise<LoadedImage[]> {
  const tx = new LoadTransaction(d);
  try {
    const { index, memory } = await ingestArchive(d.content, body, tx);
    const json = async (f: ArchiveFile): Promise<unknown> => {
      const bytes = memory.get(f.digest) ?? (await d.content.readBytes(f.digest));
      try {
        return JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new InvalidArchiveError(`${f.digest} is not valid JSON`);
      }
    };
    const plans = await planArchive(index, json);
    if (plans.length === 0) throw new InvalidArchiveError('it holds no image');
    const configs: ImageConfig[] = [];
    for (const plan of plans) configs.push(await unpackImage(d, plan, await json({ digest: plan.config, size: 0 }), tx, progress));
    const loaded: LoadedImage[] = [];
    for (const [i, plan] of plans.entries()) {
      const config = configs[i]!;
      const diffIds = config.rootfs.diff_ids;
      const chainId = chainIds(diffIds).at(-1);
      let size = 0;
      for (const c of chainIds(diffIds)) size += (await d.layers.get(c)).size;
      await d.images.add({ id: plan.config, size, repoDigests: [], ...(chainId ? { chainId } : {}) });
      loaded.push({ id: plan.config, tags: plan.tags });
    }
    // tags last: a crash before this point leaves no name pointing at a half-made image
    for (const img of loaded) {
      for (const tag of img.tags) {
        const previous = await d.images.tag(img.id, tag);
        if (previous && previous !== img.id) {
          progress({ stream: `The image ${tag} already exists, renaming the old one with ID ${previous} to empty string\n` });
        }
      }
    }
    const keep = new Set<Digest>(plans.map((p) => p.config));
    for (const c of configs) for (const diffId of c.rootfs.diff_ids) for (const b of (await d.layerBlobs.get(diffId))?.blobs ?? []) keep.add(b.digest);
    await tx.dropUnused(keep);
    return loaded;
  } catch (err) {
    body.resume(); // let the client finish sending so it reads our answer
    await tx.rollback();
    if (err instanceof TarFormatError) throw new InvalidArchiveError(err.message);
    throw err;
  }
}

/** Stores every regular file of the archive; returns where each one went. */
async function ingestArchive(content: ContentStore, body: Readable, tx: LoadTransaction): Promise<{ index: ArchiveIndex; memory: Map<Digest, Buffer> }> {
  const index: ArchiveIndex = { byPath: new Map(), byDigest: new Map() };
  const memory = new Map<Digest, Buffer>();
  const symlinks = new Map<string, string>();
  let kept = 0;
  const { stream } = await decompressed(body);
  for await (const entry of readTar(stream)) {
    const h = entry.header;
    const path = cleanArchivePath(h.name);
    if (h.type === 'symlink' || h.type === 'link') {
      // legacy archives link a repeated layer.tar to its first copy
      const base = h.type === 'symlink' ? path.split('/').slice(0, -1).join('/') : '';
      symlinks.set(path, cleanArchivePath(h.type === 'symlink' && !h.linkname.startsWith('/') ? `${base}/${h.linkname}` : h.linkname));
      continue;
    }
    if (h.type !== 'file') continue;
    const keep = h.size <= KEEP_IN_MEMORY && kept + h.size <= KEEP_TOTAL;
    const chunks: Buffer[] = [];
    const w = content.writer();
    try {
      for await (const c of entry.body) {
        if (keep) chunks.push(c);
        if (!w.write(c)) await once(w, 'drain');
      }
      w.end();
      await once(w, 'finish');
    } catch (err) {
      await w.discard();
      throw err;
    }
    const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
    const info = await commit(w, blob ? { digest: `sha256:${blob[1]}`, path } : { path });
    if (info.created) tx.blobs.add(info.digest);
    const file: ArchiveFile = { digest: info.digest, size: info.size };
    index.byPath.set(path, file);
    index.byDigest.set(info.digest, file);
    if (keep) {
      memory.set(info.digest, Buffer.concat(chunks));
      kept += h.size;
    }
  }
  for (const [link, target] of symlinks) {
    const f = index.byPath.get(target);
    if (f) index.byPath.set(link, f);
  }
  return { index, memory };
}

async function commit(w: ContentWriter, o: { digest?: Digest; path: string }) {
  try {
    return await w.commit(o.digest ? { digest: o.digest } : {});
  } catch (err) {
    if (err instanceof InvalidParameter && err.code === 'content.digest_mismatch') {
      throw new InvalidParameter('content.digest_mismatch', `invalid image archive: ${o.path}: ${err.message}`);
    }
    throw err;
  }
}

/** Archive paths: `./x` and `x` are the same; nothing may climb out. */
function cleanArchivePath(name: string): string {
  try {
    return cleanEntryPath(name, 'archive entry');
  } catch {
    throw new InvalidArchiveError(`unsafe path ${JSON.stringify(name)}`);
  }
}

const MEDIA_TYPE_OF: Record<Compression, string> = {
  none: MediaType.OciLayer,
  gzip: MediaType.OciLayerGzip,
  zstd: MediaType.OciLayerZstd,
  bzip2: 'application/x-bzip2',
  xz: 'application/x-xz',
};

/** Unpacks the layers of one image that the layer store does not have yet. */
async function unpackImage(d: LoadDeps, plan: ImagePlan, parsed: unknown, tx: LoadTransaction, progress: (m: JSONMessage) => void): Promise<ImageConfig> {
  const config = checkImageConfig(parsed, `invalid image archive: config ${plan.config}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== plan.layers.length) {
    throw new InvalidArchiveError(`config ${plan.config} lists ${diffIds.length} layers, the manifest ${plan.layers.length}`);
  }
  const chains = chainIds(diffIds);
  for (const [i, layer] of plan.layers.entries()) {
    const chain = chains[i]!;
    const parent = i > 0 ? chains[i - 1] : undefined;
    const id = shortId(diffIds[i]!);
    if (!(await d.layers.has(chain))) {
      const { compression, stream } = await decompressed(d.content.read(layer.blob));
      const info = await d.layers.apply(parent, stream);
      if (info.chainId !== chain) {
        if (!tx.layers.includes(info.chainId) && !(await usedByImage(d, info.chainId))) await d.layers.remove(info.chainId);
        throw new InvalidParameter('image.load_diffid_mismatch', `invalid image archive: layer ${i} has diff id ${info.diffId}, the config says ${diffIds[i]}`);
      }
      tx.layers.push(chain);
      await d.layerBlobs.record(info.diffId, info.tarSize ?? 0, { mediaType: layer.mediaType ?? MEDIA_TYPE_OF[compression], digest: layer.blob, size: (await d.content.info(layer.blob)).size });
    } else {
      const known = await d.layerBlobs.get(diffIds[i]!);
      if (!known?.blobs.some((b) => b.digest === layer.blob)) {
        // an identical layer is unpacked already; keep this blob only if it is the layer itself
        const info = await d.layers.get(chain);
        if (layer.blob === diffIds[i]) await d.layerBlobs.record(diffIds[i]!, info.tarSize ?? (await d.content.info(layer.blob)).size, { mediaType: MediaType.OciLayer, digest: layer.blob, size: (await d.content.info(layer.blob)).size });
      }
    }
    progress({ status: 'Loading layer', id, progressDetail: { current: 1, total: 1 } });
  }
  return config;
}

async function usedByImage(d: LoadDeps, chain: Digest): Promise<boolean> {
  return d.images.list().some((img) => chainIds(img.config.rootfs.diff_ids).includes(chain));
}
