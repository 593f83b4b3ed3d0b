/**
 * `--cache-from IMAGE` with the classic builder's semantics (moby's
 * imageCache): when no local step image matches, an image given as a
 * cache source is a match for the step if the stage so far is a prefix of
 * it (same layers, same history) and its next history entry was made by
 * the same instruction (`created_by`). The step's image is then made from
 * that entry and, unless it is an empty layer, the source's next layer.
 */
import type { Image } from '../images/image-store.js';
import type { ImageConfig } from '../../oci/index.js';

export interface CacheFromMatch {
  /** The source's layer this step would have made; absent for a config-only step. */
  diffId?: string;
  /** Index of the source's layer, so its chain id can be found. */
  layerIndex?: number;
  source: Image;
}

export function matchCacheFrom(sources: Image[], stage: ImageConfig, createdBy: string): CacheFromMatch | undefined {
  const history = stage.history ?? [];
  const diffIds = stage.rootfs.diff_ids;
  for (const source of sources) {
    const sh = source.config.history ?? [];
    const sd = source.config.rootfs.diff_ids;
    if (sh.length <= history.length || sd.length < diffIds.length) continue;
    if (!diffIds.every((d, i) => sd[i] === d)) continue;
    if (!history.every((h, i) => sh[i]!.created_by === h.created_by && Boolean(sh[i]!.empty_layer) === Boolean(h.empty_layer))) continue;
    const next = sh[history.length]!;
    if (next.created_by !== createdBy) continue;
    if (next.empty_layer) return { source };
    const layerIndex = diffIds.length;
    if (layerIndex >= sd.length) continue;
    return { source, diffId: sd[layerIndex], layerIndex };
  }
  return undefined;
}
