/**
 * `docker import`: a rootfs tarball (any compression) becomes a one-layer
 * image. The uncompressed tar is hashed and unpacked in one pass while its
 * bytes go to the content store (its digest is then the diffID), so `save`
 * and `push` can reproduce the layer.
 */
import { PassThrough, type Readable } from 'node:stream';
import { isBerthError } from '../../errdefs/index.js';
import { tee } from '../../lib/streams.js';
import { hostArchitecture, type ImageConfig } from '../../oci/image.js';
import { importTarget } from '../../oci/reference.js';
import { MediaType } from '../../oci/media-types.js';
import type { ContentStore } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import { decompressed } from '../layers/decompress.js';
import type { LayerStore } from '../layers/layer-store.js';
import { applyChanges } from './changes.js';
import type { Image, ImageStore } from './image-store.js';

export interface ImportOptions {
  /** `repo[:tag]`, as the CLI sends it in `repo`; empty for an untagged image. */
  repo?: string;
  tag?: string;
  changes?: string[];
  message?: string;
  engineVersion: string;
}

export interface ImportDeps {
  content: ContentStore;
  layerBlobs: LayerBlobIndex;
  layers: LayerStore;
  images: ImageStore;
}

export async function importRootfs(deps: ImportDeps, body: Readable, opts: ImportOptions): Promise<Image> {
  const target = importTarget(opts.repo, opts.tag);
  const config = applyChanges({}, opts.changes ?? []);

  const toContent = new PassThrough({ highWaterMark: 1 << 20 });
  const toLayer = new PassThrough({ highWaterMark: 1 << 20 });
  // their errors reach us through the promises below; destroy(err) after a reader has let go
  // (a client that left mid-upload) must not become an unhandled 'error' that ends the daemon
  toContent.on('error', () => {});
  toLayer.on('error', () => {});
  const blob = deps.content.writer();
  const storing = new Promise<void>((resolve, reject) => {
    toContent.pipe(blob);
    blob.once('finish', resolve).once('error', reject);
    toContent.once('error', reject);
  });
  let copying: Promise<void> = Promise.resolve();
  let created = false;
  let layer: Awaited<ReturnType<LayerStore['apply']>> | undefined;
  let applying: Promise<unknown> = Promise.resolve();
  try {
    const { stream } = await decompressed(body);
    copying = tee(stream, [toContent, toLayer]);
    const unpacking = deps.layers.apply(undefined, toLayer);
    applying = unpacking;
    [layer] = await Promise.all([unpacking, copying, storing]);
    const stored = await blob.commit();
    created = stored.created;
    await deps.layerBlobs.record(layer.diffId, stored.size, { mediaType: MediaType.OciLayer, digest: stored.digest, size: stored.size });
    const now = new Date().toISOString();
    const comment = opts.message || 'Imported from -';
    const imageConfig: ImageConfig = {
      architecture: hostArchitecture(),
      comment,
      config,
      created: now,
      docker_version: opts.engineVersion,
      history: [{ created: now, comment }],
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    };
    const img = await deps.images.create(Buffer.from(JSON.stringify(imageConfig)), { chainId: layer.chainId, size: layer.size });
    if (target) await deps.images.tag(img.id, target);
    return img;
  } catch (err) {
    // destroy with the error so a tee waiting for 'drain' wakes up and stops
    const e = err as Error;
    body.destroy(e);
    toContent.destroy(e);
    toLayer.destroy(e);
    const [unpacked] = await Promise.allSettled([applying, copying, storing]);
    await blob.discard();
    if (layer && !deps.images.list().some((i) => i.chainId === layer!.chainId)) await deps.layers.remove(layer.chainId);
    if (created && layer && !deps.images.get(layer.diffId)) await deps.content.delete(layer.diffId);
    // a refused layer (too large, unsafe) is why the copy to it stopped: say that, not the tee's complaint
    if (!isBerthError(err) && unpacked.status === 'rejected' && isBerthError(unpacked.reason)) throw unpacked.reason;
    throw err;
  }
}
