/**
 * `system df`: images with their shared and container counts, containers
 * with the size of their writable layer, volumes and build cache (empty
 * until those exist). Layer sizes come from layer.json (measured at unpack
 * time), so only the containers' upper dirs are walked.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerSummary, DiskUsage, ImageSummary } from '../../api/types/index.js';
import { chainIds, type Digest } from '../../oci/index.js';
import type { Image } from '../images/image-store.js';
import type { LayerStore } from '../layers/layer-store.js';

export interface DiskUsageDeps {
  images(): Image[];
  summary(img: Image): ImageSummary;
  layers: LayerStore;
  /** Every container (running or not) with its image id and writable dir. */
  containers(): Promise<{ summary: ContainerSummary; imageId: Digest; upperDir: string }[]>;
}

/** Bytes of regular files under `dir` (hard links counted once). */
export async function dirSize(dir: string, seen = new Set<number>()): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p, seen);
    else if (e.isFile()) {
      const st = await lstat(p);
      if (st.nlink > 1) {
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
      }
      total += st.size;
    }
  }
  return total;
}

export class DiskUsageService {
  constructor(private readonly d: DiskUsageDeps) {}

  async diskUsage(): Promise<DiskUsage> {
    const layers = await this.d.layers.list();
    const layerSize = new Map(layers.map((l) => [l.chainId, l.size]));
    const images = this.d.images();
    const users = new Map<Digest, number>();
    for (const chain of images.flatMap((i) => chainIds(i.config.rootfs.diff_ids))) users.set(chain, (users.get(chain) ?? 0) + 1);
    const containers = await this.d.containers();
    const containerCount = new Map<Digest, number>();
    for (const c of containers) containerCount.set(c.imageId, (containerCount.get(c.imageId) ?? 0) + 1);
    const imageSummaries = images.map((img) => {
      const chains = chainIds(img.config.rootfs.diff_ids);
      const shared = chains.filter((c) => (users.get(c) ?? 0) > 1).reduce((n, c) => n + (layerSize.get(c) ?? 0), 0);
      return { ...this.d.summary(img), SharedSize: shared, Containers: containerCount.get(img.id) ?? 0 };
    });
    const sizeOf = new Map(images.map((i) => [i.id, i.size]));
    const containerSummaries: ContainerSummary[] = [];
    for (const c of containers) {
      const rw = await dirSize(c.upperDir);
      containerSummaries.push({ ...c.summary, SizeRw: rw, SizeRootFs: rw + (sizeOf.get(c.imageId) ?? 0) });
    }
    return {
      LayersSize: layers.reduce((n, l) => n + l.size, 0),
      Images: imageSummaries,
      Containers: containerSummaries,
      Volumes: [],
      BuildCache: [],
    };
  }
}
