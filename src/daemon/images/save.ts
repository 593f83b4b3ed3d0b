/**
 * `docker save`: what Docker 25+ writes, streamed. One tar holding an OCI
 * image layout (oci-layout, index.json, blobs/sha256/...) and the legacy
 * Docker archive index (manifest.json, repositories) over the same blobs.
 * Layers are written uncompressed, their bytes exactly the diffID's.
 *
 *   blobs/sha256/<diffID hex>     each layer tar, once
 *   blobs/sha256/<config hex>     each image config
 *   blobs/sha256/<manifest hex>   an OCI manifest per image
 *   index.json                    a descriptor per name (io.containerd.image.name, org.opencontainers.image.ref.name)
 *   manifest.json                 [{ Config, RepoTags, Layers }]
 *   oci-layout, repositories
 *
 * Everything that can fail (names, missing blobs) is checked before the
 * first byte, so errors still get an HTTP status.
 */
import type { Readable } from 'node:stream';
import { NotFound } from '../../errdefs/index.js';
import { headerDefaults, TarWriter } from '../../lib/tar/index.js';
import { hexOf, MediaType, sha256Digest, type Descriptor, type Digest, type Index, type Manifest } from '../../oci/index.js';
import { familiarName, fullString, parseReference, withDefaultTag, type Reference } from '../../oci/reference.js';
import type { BlobReader } from '../content/content-store.js';
import type { LayerBlobs } from '../content/layer-blobs.js';
import { decompressed } from '../layers/decompress.js';
import { CONTAINERD_NAME_ANNOTATION, OCI_NAME_ANNOTATION } from './archive-manifest.js';
import type { Image } from './image-store.js';

/** An image to save and the names (familiar, tagged) to save it under; none for a save by id. */
export interface SaveItem {
  image: Image;
  names: string[];
}

/** A layer's bytes as the archive needs them: an uncompressed blob, or a compressed one to inflate. */
export interface LayerSource {
  diffId: Digest;
  size: number;
  blob: Digest;
  compressed: boolean;
}

export interface SavePlanFile {
  path: string;
  /** Bytes to write, or a layer to stream. */
  data?: Buffer;
  layer?: LayerSource;
}

/** Picks the blob to write a layer from: the uncompressed one if we have it. */
export function layerSource(diffId: Digest, entry: LayerBlobs | undefined): LayerSource {
  if (!entry || entry.blobs.length === 0) throw new NotFound('image.layer_blob_missing', `layer ${diffId} has no stored blob to save`);
  const plain = entry.blobs.find((b) => b.digest === diffId);
  const blob = plain ?? entry.blobs[0]!;
  return { diffId, size: entry.size, blob: blob.digest, compressed: !plain };
}

function ociManifest(configDigest: Digest, configSize: number, layers: LayerSource[]): Buffer {
  const m: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configSize },
    layers: layers.map((l) => ({ mediaType: MediaType.OciLayer, digest: l.diffId, size: l.size })),
  };
  return Buffer.from(JSON.stringify(m));
}

/**
 * The archive's files in writing order (pure): blobs first, then the index
 * files. `configs` holds each image's config bytes, `layers` each image's
 * layer sources (base first).
 */
export function planSave(items: { id: Digest; names: string[]; config: Buffer; layers: LayerSource[] }[]): SavePlanFile[] {
  const files: SavePlanFile[] = [];
  const written = new Set<string>();
  const blob = (path: string, f: Omit<SavePlanFile, 'path'>) => {
    if (written.has(path)) return;
    written.add(path);
    files.push({ path, ...f });
  };
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
  const legacy: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const item of items) {
    for (const l of item.layers) blob(`blobs/sha256/${hexOf(l.diffId)}`, { layer: l });
    blob(`blobs/sha256/${hexOf(item.id)}`, { data: item.config });
    const manifest = ociManifest(item.id, item.config.length, item.layers);
    const manifestDigest = sha256Digest(manifest);
    blob(`blobs/sha256/${hexOf(manifestDigest)}`, { data: manifest });
    const desc: Descriptor = { mediaType: MediaType.OciManifest, digest: manifestDigest, size: manifest.length };
    if (item.names.length === 0) index.manifests.push(desc);
    for (const name of item.names) {
      const ref = withDefaultTag(parseReference(name));
      index.manifests.push({ ...desc, annotations: { [CONTAINERD_NAME_ANNOTATION]: fullString(ref), [OCI_NAME_ANNOTATION]: ref.tag! } });
      (repositories[familiarName(ref)] ??= {})[ref.tag!] = hexOf(item.layers.at(-1)?.diffId ?? item.id);
    }
    legacy.push({
      Config: `blobs/sha256/${hexOf(item.id)}`,
      RepoTags: item.names.length ? item.names : null,
      Layers: item.layers.map((l) => `blobs/sha256/${hexOf(l.diffId)}`),
    });
  }
  files.push({ path: 'index.json', data: Buffer.from(JSON.stringify(index)) });
  files.push({ path: 'manifest.json', data: Buffer.from(JSON.stringify(legacy)) });
  files.push({ path: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) });
  if (Object.keys(repositories).length) files.push({ path: 'repositories', data: Buffer.from(JSON.stringify(repositories)) });
  return files;
}

/** Writes a planned archive to `tar`; the caller pipes `tar.stream` to the client. */
export async function writeArchive(content: BlobReader, files: SavePlanFile[], tar: TarWriter, mtime: number): Promise<void> {
  await tar.add(headerDefaults({ name: 'blobs/', type: 'dir', mtime }));
  await tar.add(headerDefaults({ name: 'blobs/sha256/', type: 'dir', mtime }));
  for (const f of files) {
    if (f.data) {
      await tar.add(headerDefaults({ name: f.path, type: 'file', size: f.data.length, mtime }), f.data);
      continue;
    }
    const l = f.layer!;
    const raw: Readable = content.read(l.blob);
    try {
      const body = l.compressed ? (await decompressed(raw)).stream : raw;
      await tar.add(headerDefaults({ name: f.path, type: 'file', size: l.size, mtime }), body);
    } finally {
      raw.destroy(); // a decompressor in front of it does not close the file when the client leaves
    }
  }
  await tar.finish();
}

/** `docker save NAME` without a tag means every tag of that repository. */
export function namesFor(requested: string, allTags: () => string[]): string[] {
  let ref: Reference;
  try {
    ref = parseReference(requested);
  } catch {
    return []; // an id or id prefix: saved without a name
  }
  if (ref.digest) return [];
  const tags = allTags();
  if (ref.tag) {
    const name = `${familiarName(ref)}:${ref.tag}`;
    return tags.includes(name) ? [name] : [];
  }
  const repo = familiarName(ref);
  return tags.filter((t) => t.slice(0, t.lastIndexOf(':')) === repo);
}
