/**
 * `docker history` (pure): the config's history entries newest first, each
 * non-empty one with its layer's size; the top row carries the image id and
 * tags, the rows below the ids of local parents (commit, build) and
 * `<missing>` where no local image made that step, as Docker shows.
 */
import type { ImageHistoryItem } from '../../api/types/index.js';
import type { Digest, ImageConfig } from '../../oci/index.js';

export interface HistoryImage {
  id: Digest;
  config: ImageConfig;
  parent?: Digest;
}

export function imageHistory(
  img: HistoryImage,
  layerSizes: number[],
  lookup: (id: Digest) => HistoryImage | undefined,
  tagsOf: (id: Digest) => string[],
): ImageHistoryItem[] {
  const rows: ImageHistoryItem[] = [];
  let layer = 0;
  for (const h of img.config.history ?? []) {
    const size = h.empty_layer ? 0 : (layerSizes[layer++] ?? 0);
    rows.unshift({
      Id: '<missing>',
      Created: Math.floor(Date.parse(h.created ?? '1970-01-01T00:00:00Z') / 1000) || 0,
      CreatedBy: h.created_by ?? '',
      Tags: null,
      Size: size,
      Comment: h.comment ?? '',
    });
  }
  let cur: HistoryImage | undefined = img;
  for (const row of rows) {
    if (!cur) break;
    row.Id = cur.id;
    const tags = tagsOf(cur.id);
    row.Tags = tags.length ? tags : null;
    cur = cur.parent ? lookup(cur.parent) : undefined;
  }
  return rows;
}
