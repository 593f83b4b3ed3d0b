/**
 * What the image side keeps on disk, and the sweep that drops the rest.
 *
 * Roots: every image record, every container's layer chain. Kept:
 *   - layers: every chain id of a root (an image's stack, a container's lower dirs);
 *   - blobs: image configs, the blobs of every kept diffID (content/diffids),
 *     and any digest listed in an image record's `manifests` (pull/push);
 *   - image records: only those whose config blob and top layer exist.
 * Everything else is an orphan of an interrupted load/import/commit/rmi and
 * goes. Runs at start-up, before the API serves, so nothing is in flight.
 */
import { chainIds, type Digest } from '../../oci/index.js';
import type { ContentStore } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import type { LayerInfo, LayerStore } from '../layers/layer-store.js';
import type { ImageStore } from './image-store.js';

export interface GcDeps {
  content: ContentStore;
  layerBlobs: LayerBlobIndex;
  layers: LayerStore;
  images: ImageStore;
  /** Top layer chain ids of every container. */
  containerLayers(): Digest[];
}

export interface GcReport {
  images: number;
  layers: number;
  blobs: number;
}

export async function sweepOrphans(d: GcDeps): Promise<GcReport> {
  const report: GcReport = { images: 0, layers: 0, blobs: 0 };
  for (const img of d.images.list()) {
    if (img.chainId && !(await d.layers.has(img.chainId))) {
      await d.images.forget(img.id);
      report.images++;
    }
  }
  const containers = await containerStacks(d);
  const keepChains = new Set<Digest>(containers.chains);
  for (const img of d.images.list()) for (const c of chainIds(img.config.rootfs.diff_ids)) keepChains.add(c);
  for (const layer of await d.layers.list()) {
    if (keepChains.has(layer.chainId)) continue;
    await d.layers.remove(layer.chainId);
    report.layers++;
  }
  const keepBlobs = new Set<Digest>();
  const keepDiffIds = new Set<Digest>(containers.diffIds);
  for (const img of d.images.list()) {
    keepBlobs.add(img.id);
    for (const m of img.manifests ?? []) keepBlobs.add(m);
    for (const diffId of img.config.rootfs.diff_ids) keepDiffIds.add(diffId);
  }
  for (const diffId of await d.layerBlobs.list()) {
    if (!keepDiffIds.has(diffId)) {
      await d.layerBlobs.prune(diffId, () => false);
      continue;
    }
    for (const b of (await d.layerBlobs.get(diffId))?.blobs ?? []) keepBlobs.add(b.digest);
  }
  for (const blob of await d.content.list()) {
    if (keepBlobs.has(blob.digest)) continue;
    await d.content.delete(blob.digest);
    report.blobs++;
  }
  return report;
}

/**
 * After an image is deleted: its layers, layer blobs and config go unless
 * another image or a container still stands on them.
 */
export async function releaseImage(d: GcDeps, diffIds: Digest[], configDigest: Digest, manifests: Digest[] = []): Promise<void> {
  const containers = await containerStacks(d);
  const inUse = new Set<Digest>(containers.chains);
  const liveDiffIds = new Set<Digest>(containers.diffIds);
  for (const other of d.images.list()) {
    for (const c of chainIds(other.config.rootfs.diff_ids)) inUse.add(c);
    for (const diffId of other.config.rootfs.diff_ids) liveDiffIds.add(diffId);
  }
  for (const c of chainIds(diffIds).reverse()) {
    if (inUse.has(c)) break;
    await d.layers.remove(c);
  }
  for (const diffId of diffIds) {
    if (liveDiffIds.has(diffId)) continue;
    for (const b of (await d.layerBlobs.get(diffId))?.blobs ?? []) await d.content.delete(b.digest);
    await d.layerBlobs.prune(diffId, () => false);
  }
  if (!d.images.get(configDigest)) await d.content.delete(configDigest);
  const keptManifests = new Set(d.images.list().flatMap((i) => i.manifests ?? []));
  for (const m of manifests) if (!keptManifests.has(m)) await d.content.delete(m);
}

/** Every layer under some container, and their diffIDs (a later commit stands on them). */
async function containerStacks(d: GcDeps): Promise<{ chains: Set<Digest>; diffIds: Set<Digest> }> {
  const chains = new Set<Digest>();
  const diffIds = new Set<Digest>();
  for (const top of d.containerLayers()) {
    for (let id: Digest | undefined = top; id && !chains.has(id);) {
      chains.add(id);
      const info: LayerInfo | undefined = await d.layers.get(id).catch(() => undefined);
      if (info) diffIds.add(info.diffId);
      id = info?.parent;
    }
  }
  return { chains, diffIds };
}
