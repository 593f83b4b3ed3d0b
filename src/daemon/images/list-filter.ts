/**
 * `docker images` selection (pure): `-a` and the filters `dangling`,
 * `label` / `label!`, `reference`, `before`, `since`, `until`. Values of one
 * key are ORed, keys are ANDed, as in Docker.
 */
import { InvalidParameter } from '../../errdefs/index.js';
import type { Digest, ImageConfig } from '../../oci/index.js';
import { timestampMs } from '../../lib/go-time.js';

const KEYS = ['dangling', 'label', 'label!', 'reference', 'before', 'since', 'until'];

export interface FilterableImage {
  id: Digest;
  config: ImageConfig;
}

export interface SelectContext<I extends FilterableImage> {
  all: boolean;
  tagsOf(id: Digest): string[];
  hasChildren(id: Digest): boolean;
  resolve(ref: string): I | undefined;
}

export function validateImageFilters(filters: Map<string, string[]>): void {
  for (const [key, values] of filters) {
    if (!KEYS.includes(key)) throw new InvalidParameter('image.invalid_filter', `invalid filter '${key}'`);
    if (key === 'dangling') {
      for (const v of values) {
        if (!['true', 'false', '1', '0'].includes(v.toLowerCase())) {
          throw new InvalidParameter('image.invalid_filter', `invalid filter 'dangling=${v}'`);
        }
      }
    }
  }
}

function createdMs(img: FilterableImage): number {
  return Date.parse(img.config.created ?? '1970-01-01T00:00:00Z') || 0;
}

/** `key` or `key=value` against an image's labels. */
export function labelMatches(labels: Record<string, string> | null | undefined, filter: string): boolean {
  const eq = filter.indexOf('=');
  const key = eq === -1 ? filter : filter.slice(0, eq);
  if (!labels || !(key in labels)) return false;
  return eq === -1 || labels[key] === filter.slice(eq + 1);
}

/** The `reference` filter: `busybox`, `busybox:*`, `org/*`, `localhost:5000/x:1`. */
export function referenceMatches(pattern: string, tag: string): boolean {
  const full = pattern.includes(':') || pattern.includes('@') ? pattern : `${pattern}:*`;
  const re = new RegExp('^' + full.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('[^/]*') + '$');
  return re.test(tag) || re.test(tag.replace(/:[^:/]+$/, ''));
}

/** `until` takes a timestamp or a Go-style duration (`1h`, `30m`). */
function untilMs(v: string, now: number): number {
  const t = timestampMs(v, now);
  if (t === undefined) throw new InvalidParameter('image.invalid_filter', `invalid filter 'until=${v}'`);
  return t;
}

export function selectImages<I extends FilterableImage>(images: I[], filters: Map<string, string[]>, ctx: SelectContext<I>): I[] {
  const dangling = filters.get('dangling');
  const labels = filters.get('label') ?? [];
  const notLabels = filters.get('label!') ?? [];
  const refs = filters.get('reference') ?? [];
  const bound = (key: string) => {
    const v = filters.get(key)?.[0];
    if (v === undefined) return undefined;
    const img = ctx.resolve(v);
    if (!img) throw new InvalidParameter('image.invalid_filter', `No such image: ${v}`);
    return createdMs(img);
  };
  const before = bound('before');
  const since = bound('since');
  const until = filters.get('until')?.[0];
  const untilLimit = until === undefined ? undefined : untilMs(until, Date.now());
  return images.filter((img) => {
    const tags = ctx.tagsOf(img.id);
    if (dangling?.some((v) => ['true', '1'].includes(v.toLowerCase())) && tags.length) return false;
    if (dangling?.some((v) => ['false', '0'].includes(v.toLowerCase())) && !tags.length) return false;
    if (labels.length && !labels.every((l) => labelMatches(img.config.config?.Labels, l))) return false;
    if (notLabels.some((l) => labelMatches(img.config.config?.Labels, l))) return false;
    if (refs.length && !tags.some((t) => refs.some((f) => referenceMatches(f, t)))) return false;
    if (before !== undefined && createdMs(img) >= before) return false;
    if (since !== undefined && createdMs(img) <= since) return false;
    if (untilLimit !== undefined && createdMs(img) > untilLimit) return false;
    if (!ctx.all && !dangling && !tags.length && ctx.hasChildren(img.id)) return false;
    return true;
  });
}
