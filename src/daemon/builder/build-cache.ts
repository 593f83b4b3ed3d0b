/**
 * The build cache as BuildKit shows it (`docker system df`, `-v`) and
 * prunes it (`docker builder prune`), computed from what berth keeps:
 *
 *   regular          a step image (an image with a build cache key); its size is the layer it
 *                    added. Shared when an image (tagged, used by a container, or not made by a
 *                    build step) stands on it: then it is that image's, and prune keeps it.
 *   exec.cachemount  a RUN --mount=type=cache directory; in use while a step holds it.
 *
 * Pure: the records and the prune order come from plain data.
 */
import type { BuildCacheRecord } from '../../api/types/index.js';

export type { BuildCacheRecord };

export interface CacheItem {
  id: string;
  type: 'regular' | 'exec.cachemount' | 'source.local';
  parent?: string;
  /** Bytes it alone holds. */
  size: number;
  created: number;
  lastUsed?: number;
  usage: number;
  inUse: boolean;
  shared: boolean;
  description: string;
}

export function toRecord(i: CacheItem): BuildCacheRecord {
  return {
    ID: i.id, Parents: i.parent ? [i.parent] : null, Type: i.type, Description: i.description, InUse: i.inUse, Shared: i.shared,
    Size: i.size, CreatedAt: new Date(i.created).toISOString(), LastUsedAt: i.lastUsed !== undefined ? new Date(i.lastUsed).toISOString() : null,
    UsageCount: i.usage,
  };
}

export interface StepImage {
  id: string;
  parent?: string;
  /** Has a build cache key (made by a build step). */
  step: boolean;
  /** Tagged, or used by a container: it keeps itself and what it stands on. */
  kept: boolean;
}

/** Step images nothing keeps: the ones prune may remove (ancestors of a kept or non-step image are shared). */
export function sharedSteps(images: StepImage[]): Set<string> {
  const byId = new Map(images.map((i) => [i.id, i]));
  const shared = new Set<string>();
  for (const img of images) {
    if (!img.kept && img.step) continue;
    // a kept image, or one that is not a build step's, holds its whole chain
    for (let p: StepImage | undefined = img; p && !shared.has(p.id); p = p.parent ? byId.get(p.parent) : undefined) shared.add(p.id);
  }
  return shared;
}

export interface PruneOptions {
  /** Only items last used (or created) before this time (ms). */
  until?: number;
  /** Remove least recently used items until the cache holds at most this many bytes. */
  keepStorage?: number;
}

/**
 * The items to remove, in an order that removes children before parents:
 * without keepStorage every eligible item (unshared, not in use, old
 * enough); with it, least recently used first until the unshared total
 * fits.
 */
export function prunePlan(items: CacheItem[], o: PruneOptions): string[] {
  const eligible = items.filter((i) => !i.shared && !i.inUse && (o.until === undefined || (i.lastUsed ?? i.created) < o.until));
  const children = new Map<string, number>();
  for (const i of items) if (i.parent) children.set(i.parent, (children.get(i.parent) ?? 0) + 1);
  let total = items.filter((i) => !i.shared).reduce((n, i) => n + i.size, 0);
  const out: string[] = [];
  const left = new Set(eligible);
  for (;;) {
    if (o.keepStorage !== undefined && total <= o.keepStorage) break;
    const leaves = [...left].filter((i) => !children.get(i.id)).sort((a, b) => (a.lastUsed ?? a.created) - (b.lastUsed ?? b.created));
    const next = leaves[0];
    if (!next) break;
    left.delete(next);
    out.push(next.id);
    total -= next.size;
    if (next.parent) children.set(next.parent, children.get(next.parent)! - 1);
  }
  return out;
}
