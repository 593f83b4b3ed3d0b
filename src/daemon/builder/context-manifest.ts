/**
 * `berth build`'s incremental context (docs/build.md, "The incremental
 * context"), as the daemon reads it. The client first sends the digests of
 * its files (`POST /build/context-manifest`, `{"Digests": ["sha256:…"]}`) and
 * learns which the store lacks; then the context tar names every entry, but
 * a file the store holds comes as a header with no bytes and two PAX
 * records, `BERTH.digest` and `BERTH.size`. Both are hostile input: a
 * reference must name a plain relative path, a well-formed digest the store
 * holds (or that arrived earlier in the same upload), and its true size.
 */
import { InvalidParameter } from '../../errdefs/index.js';
import type { TarHeader } from '../../lib/tar/index.js';
import type { ContextStore } from './context-store.js';

export const DIGEST_RECORD = 'BERTH.digest';
export const SIZE_RECORD = 'BERTH.size';
/** Digests one manifest request may ask about. */
export const MAX_MANIFEST_DIGESTS = 1_000_000;

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The hex digests of a manifest request body; a 400 for anything else. */
export function parseManifestDigests(body: unknown): string[] {
  const list = (body as { Digests?: unknown } | null)?.Digests;
  if (!Array.isArray(list) || list.length > MAX_MANIFEST_DIGESTS) throw new InvalidParameter('build.bad_manifest', 'invalid context manifest: expected {"Digests": ["sha256:<hex>", ...]}');
  return list.map((d) => hexOf(d));
}

/** `POST /build/context-manifest`: the digests of `digests` the store lacks. */
export async function missingContent(store: ContextStore, digests: unknown): Promise<string[]> {
  return (await store.missing(parseManifestDigests({ Digests: digests }))).map((hex) => `sha256:${hex}`);
}

/** A tar entry that refers to stored content: its hex digest and size; undefined for an ordinary entry. */
export function storedReference(h: TarHeader): { hex: string; size: number } | undefined {
  const digest = h.pax[DIGEST_RECORD];
  if (digest === undefined) return undefined;
  if (h.type !== 'file' || h.size !== 0) throw new InvalidParameter('build.bad_manifest', `invalid context manifest entry "${h.name}": only an empty regular file entry may refer to stored content`);
  const parts = h.name.split('/');
  if (h.name.startsWith('/') || parts.includes('..') || h.name.includes('\0')) {
    throw new InvalidParameter('build.bad_manifest', `invalid context manifest entry "${h.name}": the path must be relative and stay inside the context`);
  }
  const size = Number(h.pax[SIZE_RECORD]);
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidParameter('build.bad_manifest', `invalid context manifest entry "${h.name}": bad ${SIZE_RECORD}`);
  return { hex: hexOf(digest), size };
}

function hexOf(d: unknown): string {
  const m = typeof d === 'string' ? DIGEST.exec(d) : null;
  if (!m) throw new InvalidParameter('build.bad_manifest', `invalid context manifest digest ${JSON.stringify(d)}: expected sha256:<64 hex digits>`);
  return m[1]!;
}
