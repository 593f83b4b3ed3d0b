/**
 * `system df`: the images `docker images` lists (intermediate build images
 * are not rows, and sharing is counted among the rows only, as dockerd
 * does), containers with the size of their writable layer, volumes with
 * their size and users. Layer sizes come from layer.json (measured at
 * unpack time), so only upper dirs and volumes are walked.
 */
import type { BuildCacheRecord, ContainerSummary, DiskUsage, ImageSummary, Volume } from '../../api/types/index.js';
import { directorySize } from '../../lib/disk-usage.js';
import { chainIds, type Digest } from '../../oci/index.js';
import type { Image } from '../images/image-store.js';
import type { LayerStore } from '../layers/layer-store.js';

export interface DiskUsageDeps {
  images(): Image[];
  summary(img: Image): ImageSummary;
  layers: LayerStore;
  /** Every container (running or not) with its image id and writable dir. */
  containers(): Promise<{ summary: ContainerSummary; imageId: Digest; upperDir: string }[]>;
  /** Intermediate images (untagged, with children) are build steps, not rows of `docker images`. */
  isIntermediate(img: Image): boolean;
  /** Volumes with UsageData. */
  volumes(): Promise<Volume[]>;
  /** The builder's cache records. */
  buildCache(): Promise<BuildCacheRecord[]>;
}

export class DiskUsageService {
  constructor(private readonly d: DiskUsageDeps) {}

  async diskUsage(): Promise<DiskUsage> {
    const layers = await this.d.layers.list();
    const layerSize = new Map(layers.map((l) => [l.chainId, l.size]));
    const images = this.d.images().filter((i) => !this.d.isIntermediate(i));
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
      const rw = await directorySize(c.upperDir);
      containerSummaries.push({ ...c.summary, SizeRw: rw, SizeRootFs: rw + (sizeOf.get(c.imageId) ?? 0) });
    }
    const buildCache = await this.d.buildCache();
    return {
      LayersSize: layers.reduce((n, l) => n + l.size, 0),
      Images: imageSummaries,
      Containers: containerSummaries,
      Volumes: await this.d.volumes(),
      BuildCache: buildCache,
      BuilderSize: buildCache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0),
    };
  }
}
