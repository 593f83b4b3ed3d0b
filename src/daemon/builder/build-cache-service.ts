/**
 * `system df`'s BuildCache records and `POST /build/prune` over berth's
 * build cache: step images and RUN cache mounts (see build-cache.ts for
 * what each record means).
 */
import { rm } from 'node:fs/promises';
import type { Digest } from '../../oci/index.js';
import type { Image } from '../images/image-store.js';
import { prunePlan, sharedSteps, toRecord, type BuildCacheRecord, type CacheItem, type PruneOptions } from './build-cache.js';
import type { CacheUsage } from './cache-usage.js';
import type { ContextStore } from './context-store.js';
import { cacheMountInUse, listCacheMounts } from './run-mount-setup.js';

export interface BuildCacheDeps {
  images(): Image[];
  tagsOf(id: Digest): string[];
  usedByContainer(id: Digest): boolean;
  removeImage(id: Digest): Promise<void>;
  cacheRoot: string;
  usage: CacheUsage;
  /** `berth build`'s kept context files: one record, like BuildKit's local source. */
  contextStore?: ContextStore;
  /** Resolves once no finished build is still cleaning up (its pins and usage figures are final). */
  buildsSettled?(): Promise<void>;
}

const CONTEXT_STORE_ID = 'berth-context-store';

export class BuildCacheService {
  constructor(private readonly d: BuildCacheDeps) {}

  async records(): Promise<BuildCacheRecord[]> {
    return (await this.items()).map(toRecord);
  }

  async prune(o: PruneOptions): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    const items = await this.items();
    const byId = new Map(items.map((i) => [i.id, i]));
    const deleted: string[] = [];
    let bytes = 0;
    for (const id of prunePlan(items, o)) {
      const item = byId.get(id)!;
      if (item.type === 'regular') await this.d.removeImage(id as Digest);
      else if (item.type === 'source.local') await this.d.contextStore?.prune();
      else await rm(`${this.d.cacheRoot}/${id}`, { recursive: true, force: true });
      deleted.push(id);
      bytes += item.size;
    }
    if (deleted.length) await this.d.usage.forget(deleted);
    return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: bytes };
  }

  private async items(): Promise<CacheItem[]> {
    await this.d.buildsSettled?.();
    const images = this.d.images();
    const byId = new Map(images.map((i) => [i.id, i]));
    const shared = sharedSteps(images.map((i) => ({
      id: i.id, step: i.cacheKey !== undefined, kept: this.d.tagsOf(i.id).length > 0 || this.d.usedByContainer(i.id),
      ...(i.parent ? { parent: i.parent } : {}),
    })));
    const out: CacheItem[] = [];
    for (const img of images) {
      if (img.cacheKey === undefined) continue;
      const parent = img.parent ? byId.get(img.parent) : undefined;
      const use = await this.d.usage.get(img.id);
      const created = Date.parse(img.config.created ?? '') || 0;
      const createdBy = img.config.history?.at(-1)?.created_by ?? '';
      out.push({
        id: img.id, type: 'regular', size: Math.max(0, img.size - (parent?.size ?? 0)), created, usage: use?.count ?? 1,
        ...(use ? { lastUsed: use.lastUsed } : {}), ...(img.parent && img.parent && byId.get(img.parent)?.cacheKey !== undefined ? { parent: img.parent } : {}),
        inUse: false, shared: shared.has(img.id), description: createdBy.replace(/^\/bin\/sh -c (#\(nop\) +)?/, ''),
      });
    }
    for (const m of await listCacheMounts(this.d.cacheRoot)) {
      const use = await this.d.usage.get(m.name);
      out.push({
        id: m.name, type: 'exec.cachemount', size: m.size, created: m.created, usage: use?.count ?? 0, lastUsed: use?.lastUsed ?? m.modified,
        inUse: cacheMountInUse(m.dir), shared: false, description: 'cached mount',
      });
    }
    const store = await this.d.contextStore?.usage();
    if (store && store.files > 0) {
      out.push({
        id: CONTEXT_STORE_ID, type: 'source.local', size: store.size, created: store.lastUsed, usage: 1, lastUsed: store.lastUsed,
        inUse: store.inUse, shared: false, description: `local source for context (${store.files} files, berth build)`,
      });
    }
    return out;
  }
}
