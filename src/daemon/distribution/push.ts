/**
 * `docker push`: every layer (gzip, as Docker sends them) and the config go
 * up concurrently unless the registry has them already (HEAD) or can mount
 * them from another repository we pulled or pushed them as; then the
 * manifest, under the tag. An image pulled from a registry is pushed with
 * the manifest it came with, so its digest stays the same.
 */
import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { adaptiveGzip } from './adaptive-gzip.js';
import type { AuthConfig } from '../../api/registry-auth.js';
import { SystemError } from '../../errdefs/index.js';
import { concurrencyLimit } from '../../lib/limit.js';
import { layerCompression, MediaType, type Descriptor, type Digest, type Manifest } from '../../oci/index.js';
import { parseReference, type Reference } from '../../oci/reference.js';
import type { ContentStore } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import type { Image, ImageStore } from '../images/image-store.js';
import { LayerProgress, type Progress } from './progress.js';
import type { Registries } from './registries.js';
import type { RepositoryClient } from './registry-client.js';

export interface PushDeps {
  content: ContentStore;
  layerBlobs: LayerBlobIndex;
  images: ImageStore;
  registries: Registries;
  maxConcurrentUploads: number;
}

export interface PushedTag {
  tag: string;
  digest: Digest;
  size: number;
}

/** Pushes `image` as `ref` (domain/path:tag). */
export async function pushImage(d: PushDeps, image: Image, ref: Reference & { tag: string }, creds: AuthConfig, progress: Progress): Promise<PushedTag> {
  const { client } = await d.registries.open(ref.domain, ref.path, creds, 'pull,push', (c) => c.hasBlob(image.id), { mirrors: false });
  const diffIds = image.config.rootfs.diff_ids;
  const bars = diffIds.map((id) => new LayerProgress(progress, id));
  for (const bar of [...bars].reverse()) bar.status('Preparing');
  const limit = concurrencyLimit(d.maxConcurrentUploads);
  const layers = await Promise.all(diffIds.map((diffId, i) => limit(() => pushLayer(d, client, ref, diffId, bars[i]!))));
  const config = await d.content.info(image.id);
  if (!(await client.hasBlob(image.id))) await client.upload(image.id, config.size, d.content.read(image.id));
  const { bytes, mediaType } = await manifestFor(d, image, layers, config.size);
  const digest = await client.putManifest(ref.tag, bytes, mediaType);
  await d.content.put(bytes, { digest });
  await d.images.addManifests(image.id, [digest]);
  await d.images.addRepoDigest(image.id, `${ref.domain}/${ref.path}@${digest}`);
  progress({ status: `${ref.tag}: digest: ${digest} size: ${bytes.length}` });
  progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: bytes.length } });
  return { tag: ref.tag, digest, size: bytes.length };
}

type LayerDescriptor = Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;

async function pushLayer(d: PushDeps, client: RepositoryClient, ref: Reference, diffId: Digest, bar: LayerProgress): Promise<LayerDescriptor> {
  const entry = await d.layerBlobs.get(diffId);
  const present: LayerDescriptor[] = [];
  for (const b of entry?.blobs ?? []) if (await d.content.has(b.digest)) present.push(b);
  const compressed = present.find((b) => b.digest !== diffId && layerCompression(b.mediaType) !== 'none');
  if (!compressed) {
    const plain = present.find((b) => b.digest === diffId);
    if (!entry || !plain) throw new SystemError('image.layer_blob_missing', `layer ${diffId} has no stored blob to push`);
    return compressAndUpload(d, client, diffId, plain, entry.size, bar);
  }
  if (await client.hasBlob(compressed.digest)) {
    bar.status('Layer already exists');
    return compressed;
  }
  for (const from of mountSources(d.images, ref, diffId)) {
    if (await client.mount(compressed.digest, from)) {
      bar.status(`Mounted from ${from}`);
      return compressed;
    }
  }
  await client.upload(compressed.digest, compressed.size, d.content.read(compressed.digest).pipe(counter(bar, compressed.size)));
  bar.status('Pushed');
  return compressed;
}

/**
 * A layer never compressed before: gzip it once, sending the bytes to the
 * registry and into the content store at the same time (the digest is known
 * at the end), and remember the blob so the next push can HEAD or mount it.
 */
async function compressAndUpload(d: PushDeps, client: RepositoryClient, diffId: Digest, plain: LayerDescriptor, tarSize: number, bar: LayerProgress): Promise<LayerDescriptor> {
  const gz = adaptiveGzip(d.content.read(plain.digest));
  const store = d.content.writer();
  gz.pipe(store);
  const wire = gz.pipe(counter(bar, tarSize));
  let size = 0;
  try {
    const digest = await client.uploadStream(wire, async () => {
      await finished(store);
      const info = await store.commit();
      size = info.size;
      return info.digest;
    });
    const desc = { mediaType: MediaType.DockerLayerGzip, digest, size };
    await d.layerBlobs.record(diffId, tarSize, desc);
    bar.status('Pushed');
    return desc;
  } catch (err) {
    gz.destroy();
    await store.discard();
    throw err;
  }
}

/** Counts bytes on their way out for the `Pushing` bar (Docker's total is the layer's uncompressed size). */
function counter(bar: LayerProgress, total: number): Transform {
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      bar.bytes('Pushing', sent, total);
      cb(null, chunk);
    },
  });
}

/** Other repositories on the same registry that we know hold this layer (pulled from or pushed to). */
function mountSources(images: ImageStore, target: Reference, diffId: Digest): string[] {
  const out = new Set<string>();
  for (const img of images.list()) {
    if (!img.config.rootfs.diff_ids.includes(diffId)) continue;
    for (const rd of img.repoDigests) {
      const r = parseReference(rd);
      if (r.domain === target.domain && r.path !== target.path) out.add(r.path);
    }
  }
  return [...out].slice(0, 3);
}

/** The manifest the image came with when its layers are the ones we push, else a new schema2 one. */
async function manifestFor(d: PushDeps, image: Image, layers: LayerDescriptor[], configSize: number): Promise<{ bytes: Buffer; mediaType: string }> {
  for (const digest of image.manifests ?? []) {
    const bytes = await d.content.readBytes(digest).catch(() => undefined);
    if (!bytes) continue;
    const m = JSON.parse(bytes.toString('utf8')) as Manifest;
    if (m.config?.digest !== image.id || !Array.isArray(m.layers)) continue;
    if (m.layers.length === layers.length && m.layers.every((l, i) => l.digest === layers[i]!.digest)) {
      return { bytes, mediaType: m.mediaType ?? MediaType.OciManifest };
    }
  }
  const docker = layers.every((l) => layerCompression(l.mediaType) === 'gzip');
  const manifest = docker
    ? {
      schemaVersion: 2, mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, size: configSize, digest: image.id },
      layers: layers.map((l) => ({ mediaType: MediaType.DockerLayerGzip, size: l.size, digest: l.digest })),
    }
    : {
      schemaVersion: 2, mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, size: configSize, digest: image.id },
      layers: layers.map((l) => ({ mediaType: ociLayerType(l.mediaType), size: l.size, digest: l.digest })),
    };
  // dockerd indents with three spaces; clients only care that the bytes match the digest
  return { bytes: Buffer.from(JSON.stringify(manifest, null, 3)), mediaType: manifest.mediaType };
}

function ociLayerType(t: string): string {
  const c = layerCompression(t);
  return c === 'gzip' ? MediaType.OciLayerGzip : c === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer;
}
