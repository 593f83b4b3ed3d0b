/**
 * `docker images` selection (pure): `-a` and the filters `dangling`,
 * `label` / `label!`, `reference`, `before`, `since`, `until`. Values of one
 * key are ORed (except `label`: every one must match), keys are ANDed, as in
 * Docker; the rules themselves are api/filters.ts's.
 */
import { createdAfter, type Filters } from '../../api/filters.js';
import { InvalidParameter } from '../../errdefs/index.js';
import type { Digest, ImageConfig } from '../../oci/index.js';
import { linearRegExp } from '../../lib/linear-regexp.js';

const KEYS = ['dangling', 'label', 'label!', 'reference', 'before', 'since', 'until'];
/** What `image prune` accepts. */
export const PRUNE_KEYS = ['dangling', 'label', 'label!', 'until'];

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

function createdMs(img: FilterableImage): number {
  return Date.parse(img.config.created ?? '1970-01-01T00:00:00Z') || 0;
}

/**
 * The `reference` filter as Docker's `FamiliarMatch`: the pattern (`busybox`,
 * `busybox:*`, `org/*`, `localhost:5000/x:1`) against the whole reference or
 * its name alone, so `busybox` matches `busybox:latest` and `busybox@sha256:...`.
 */
export function referenceMatches(pattern: string, ref: string): boolean {
  const re = linearRegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('[^/]*') + '$');
  return re.test(ref) || re.test(ref.replace(/@.*$/, '').replace(/:[^:/]+$/, ''));
}

/** The references of an image a `reference` filter shows: Docker lists only the matching tags and digests. */
export function shownReferences(refs: string[], filters: Filters): string[] {
  const patterns = filters.get('reference');
  return patterns.length ? refs.filter((r) => patterns.some((p) => referenceMatches(p, r))) : refs;
}

/**
 * The images `filters` selects, validated first (`invalid filter 'foo'`,
 * `dangling=[maybe]`, `before=nosuch`). `image prune` passes its filters
 * without `dangling`, which it reads itself.
 */
export function selectImages<I extends FilterableImage>(images: I[], filters: Filters, ctx: SelectContext<I>): I[] {
  filters.accept(KEYS);
  const dangling = filters.has('dangling') ? filters.bool('dangling', false) : undefined;
  const refs = filters.get('reference');
  const bound = (key: string) => {
    const v = filters.get(key)[0];
    if (v === undefined) return undefined;
    const img = ctx.resolve(v);
    if (!img) throw new InvalidParameter('image.invalid_filter', `No such image: ${v}`);
    return createdMs(img);
  };
  const before = bound('before');
  const since = bound('since');
  const until = filters.until();
  return images.filter((img) => {
    const tags = ctx.tagsOf(img.id);
    if (dangling !== undefined && dangling !== (tags.length === 0)) return false;
    if (!filters.labels(img.config.config?.Labels)) return false;
    if (refs.length && !tags.some((t) => refs.some((f) => referenceMatches(f, t)))) return false;
    if (before !== undefined && createdMs(img) >= before) return false;
    if (since !== undefined && createdMs(img) <= since) return false;
    if (createdAfter(createdMs(img), until)) return false;
    if (!ctx.all && dangling === undefined && !tags.length && ctx.hasChildren(img.id)) return false;
    return true;
  });
}
