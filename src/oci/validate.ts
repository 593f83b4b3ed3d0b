/**
 * Shape checks for image metadata that comes from outside (archives,
 * registries): every digest and id is checked where it enters, before any
 * of it can name a file. A diff id like `sha256:<hex>/diff/x` would
 * otherwise become a path inside another layer.
 */
import { InvalidParameter } from '../errdefs/index.js';
import { isSha256Digest, parseDigest, type Digest } from './digest.js';
import type { Descriptor, ImageConfig, Index, Manifest } from './image.js';

export class InvalidImageMetadata extends InvalidParameter {
  constructor(message: string) {
    super('image.invalid_metadata', message);
  }
}

/** `sha256:` + 64 lowercase hex: the only form berth stores by. */
export function checkSha256(value: unknown, what: string): Digest {
  if (typeof value !== 'string' || !isSha256Digest(value)) throw new InvalidImageMetadata(`${what}: invalid digest ${JSON.stringify(value)?.slice(0, 100)}`);
  return value;
}

/** A descriptor's digest in the OCI grammar (sha256/sha512 of their exact length) and a size that is a count. */
export function checkDescriptor(value: unknown, what: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object') throw new InvalidImageMetadata(`${what}: not a descriptor`);
  try {
    parseDigest(String(d.digest));
  } catch {
    throw new InvalidImageMetadata(`${what}: invalid digest ${JSON.stringify(d.digest)?.slice(0, 100)}`);
  }
  if (d.size !== undefined && !(Number.isSafeInteger(d.size) && d.size >= 0)) throw new InvalidImageMetadata(`${what}: invalid size ${String(d.size)}`);
  return d as Descriptor;
}

export function checkManifest(value: unknown, what = 'manifest'): Manifest {
  const m = value as Partial<Manifest> | null;
  if (!m || typeof m !== 'object' || !m.config || !Array.isArray(m.layers)) throw new InvalidImageMetadata(`${what} has no config or layers`);
  checkDescriptor(m.config, `${what}: config`);
  m.layers.forEach((l, i) => checkDescriptor(l, `${what}: layer ${i}`));
  return m as Manifest;
}

export function checkIndex(value: unknown, what = 'index'): Index {
  const x = value as Partial<Index> | null;
  if (!x || typeof x !== 'object' || !Array.isArray(x.manifests)) throw new InvalidImageMetadata(`${what} has no manifests`);
  x.manifests.forEach((m, i) => checkDescriptor(m, `${what}: manifest ${i}`));
  return x as Index;
}

/** An image config whose `rootfs.diff_ids` are all sha256 digests. */
export function checkImageConfig(value: unknown, what = 'image config'): ImageConfig {
  const c = value as Partial<ImageConfig> | null;
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new InvalidImageMetadata(`${what} is not an object`);
  const diffIds = c.rootfs?.diff_ids as unknown;
  if (!Array.isArray(diffIds)) throw new InvalidImageMetadata(`${what} has no rootfs.diff_ids`);
  diffIds.forEach((d, i) => checkSha256(d, `${what}: rootfs.diff_ids[${i}]`));
  return c as ImageConfig;
}
