/**
 * `docker pull`: manifest (an index picks the platform), config, then the
 * layers. Layers download concurrently into the content store (verified
 * against their digests, resumed when a connection drops) and unpack in
 * order as soon as their parent is in place; a layer we already have is
 * neither fetched nor unpacked again.
 *
 * All or nothing: on failure every blob and layer this pull added is
 * removed, and no record or tag is written. The image record goes in only
 * once its config and layers are stored, the tag last.
 */
import { PassThrough, pipeline, Transform, type Readable } from 'node:stream';
import type { AuthConfig } from '../../api/registry-auth.js';
import { Forbidden, InvalidParameter, NotFound, SystemError, Unauthorized } from '../../errdefs/index.js';
import { concurrencyLimit } from '../../lib/limit.js';
import { chainIds, checkImageConfig, checkIndex, checkManifest, isIndexType, isLayerType, MediaType, type Descriptor, type Digest, type ImageConfig, type Manifest, type Platform } from '../../oci/index.js';
import { familiarName, familiarString, type Reference } from '../../oci/reference.js';
import type { ContentStore } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import { decompressed } from '../layers/decompress.js';
import type { LayerStore, UnpackedLayer } from '../layers/layer-store.js';
import type { Image, ImageStore } from '../images/image-store.js';
import { downloadBlob, DownloadRestarted } from './download.js';
import { chooseManifest } from '../../oci/platform.js';
import { LayerProgress, type Progress } from './progress.js';
import type { Registries } from './registries.js';
import type { FetchedManifest, RepositoryClient } from './registry-client.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';

export interface PullDeps {
  content: ContentStore;
  layerBlobs: LayerBlobIndex;
  layers: LayerStore;
  images: ImageStore;
  registries: Registries;
  maxConcurrentDownloads: number;
  /** Largest layer blob a manifest may announce (the daemon's max-layer-size). */
  maxLayerSize: number;
  /** Debug lines for what a rollback could not remove. */
  log?: Logger;
}

export interface PullOptions {
  platform: Platform;
  creds: AuthConfig;
  signal?: AbortSignal;
}

export interface PullResult {
  image: Image;
  /** False when the name already pointed at this image. */
  updated: boolean;
}

/** Pulls `ref` (it has a tag or a digest). */
export async function pullImage(d: PullDeps, ref: Reference, opts: PullOptions, progress: Progress): Promise<PullResult> {
  const reference = ref.digest ?? ref.tag!;
  const { client, value: top } = await d.registries.open(ref.domain, ref.path, opts.creds, 'pull', (c) => c.manifest(reference))
    .catch((err: unknown) => { throw manifestError(ref, err); });
  progress({ status: `Pulling from ${ref.path}`, id: reference });
  const manifests: FetchedManifest[] = [top];
  let manifest = top;
  if (isIndexType(mediaTypeOf(top))) {
    const index = checkIndex(parseJson<unknown>(top.bytes, 'index'), `index ${top.digest}`);
    const chosen = chooseManifest(index.manifests, opts.platform);
    manifest = await client.manifest(chosen.digest);
    manifests.push(manifest);
  }
  const m = parseManifest(manifest);
  const tx = new PullTransaction(d);
  try {
    const config = await fetchConfig(d, client, m.config, tx);
    const diffIds = config.rootfs?.diff_ids;
    const layerDescs = m.layers.filter((l) => isLayerType(l.mediaType));
    if (!Array.isArray(diffIds) || diffIds.length !== layerDescs.length) {
      throw new InvalidParameter('registry.bad_manifest', `image config ${m.config.digest} lists ${diffIds?.length ?? 0} layers, the manifest ${layerDescs.length}`);
    }
    await fetchLayers(d, client, layerDescs, diffIds, tx, progress, opts.signal);
    for (const f of manifests) if ((await d.content.put(f.bytes, { digest: f.digest })).created) tx.blobs.add(f.digest);
    const chains = chainIds(diffIds);
    let size = 0;
    for (const c of chains) size += (await d.layers.get(c)).size;
    const image = await d.images.add({
      id: m.config.digest, size, repoDigests: [], manifests: manifests.map((f) => f.digest),
      ...(chains.length ? { chainId: chains.at(-1)! } : {}),
    });
    await d.images.addManifests(image.id, manifests.map((f) => f.digest));
    await d.images.addRepoDigest(image.id, `${ref.domain}/${ref.path}@${top.digest}`);
    let updated = tx.created;
    if (!ref.digest) {
      updated ||= d.images.tryResolve(familiarString(ref))?.id !== image.id;
      await d.images.tag(image.id, familiarString(ref));
    }
    progress({ status: `Digest: ${top.digest}` });
    return { image, updated };
  } catch (err) {
    await tx.rollback();
    throw err;
  }
}

export function mediaTypeOf(f: FetchedManifest): string {
  // registries may answer application/json; the manifest's own field then decides
  if (f.mediaType && f.mediaType !== 'application/json' && f.mediaType !== 'text/plain') return f.mediaType;
  const parsed = parseJson<{ mediaType?: string; manifests?: unknown }>(f.bytes, 'manifest');
  return parsed.mediaType ?? (parsed.manifests ? MediaType.OciIndex : MediaType.OciManifest);
}

function parseManifest(f: FetchedManifest): Manifest {
  const type = mediaTypeOf(f);
  if (type === MediaType.DockerManifestV1Signed || type === MediaType.DockerManifestV1) {
    throw new InvalidParameter('registry.schema1', 'Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Push the image again with a newer client.');
  }
  return checkManifest(parseJson<unknown>(f.bytes, 'manifest'), `manifest ${f.digest}`);
}

export function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new InvalidParameter('registry.bad_manifest', `the registry sent a ${what} that is not valid JSON`);
  }
}

async function fetchConfig(d: PullDeps, client: RepositoryClient, desc: Descriptor, tx: PullTransaction): Promise<ImageConfig> {
  if (!(await d.content.has(desc.digest))) {
    const res = await downloadBlob(client, d.content, desc);
    if (res.created) tx.blobs.add(desc.digest);
  }
  return checkImageConfig(parseJson<unknown>(await d.content.readBytes(desc.digest), 'image config'), `image config ${desc.digest}`);
}

/**
 * Every layer the layer store lacks: downloaded and unpacked concurrently
 * (a layer's files do not depend on its parent's), then committed on its
 * parent in order.
 */
async function fetchLayers(d: PullDeps, client: RepositoryClient, descs: Descriptor[], diffIds: Digest[], tx: PullTransaction, progress: Progress, signal?: AbortSignal): Promise<void> {
  for (const desc of descs) {
    if (desc.size > d.maxLayerSize) throw new InvalidParameter('layer.too_large', `layer ${desc.digest} of ${desc.size} bytes is larger than the daemon's max-layer-size of ${d.maxLayerSize} bytes`);
  }
  const chains = chainIds(diffIds);
  const have: boolean[] = [];
  for (const c of chains) have.push(await d.layers.has(c));
  const bars = descs.map((l) => new LayerProgress(progress, l.digest));
  for (const [i, bar] of bars.entries()) bar.status(have[i] ? 'Already exists' : 'Pulling fs layer');
  const limit = concurrencyLimit(d.maxConcurrentDownloads);
  const unpacked: (UnpackedLayer | undefined)[] = [];
  const tasks = descs.map((desc, i) => have[i] ? Promise.resolve() : limit(async () => {
    const u = await d.content.has(desc.digest)
      ? await unpack(d, d.content.read(desc.digest), desc, bars[i]!)
      : await downloadAndUnpack(d, client, desc, bars[i]!, tx, signal);
    unpacked[i] = u;
    if (u.diffId !== diffIds[i]) {
      throw new InvalidParameter('registry.diffid_mismatch', `failed to register layer: layer ${desc.digest} has diff id ${u.diffId}, the image config says ${diffIds[i]}`);
    }
  }));
  // every task settles before we return, so a failure leaves none writing behind the rollback
  const settled = Promise.allSettled(tasks);
  try {
    for (const [i, desc] of descs.entries()) {
      if (have[i]) continue;
      await tasks[i];
      const info = await d.layers.commit(i > 0 ? chains[i - 1] : undefined, unpacked[i]!);
      unpacked[i] = undefined;
      tx.layers.push(info.chainId);
      await d.layerBlobs.record(diffIds[i]!, info.tarSize ?? 0, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
      bars[i]!.status('Pull complete');
    }
  } finally {
    await settled;
    for (const u of unpacked) await u?.discard();
  }
  const failed = (await settled).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/**
 * Downloads a layer blob and unpacks it from the same bytes as they arrive
 * (no second read of the blob, and the untar runs alongside the download).
 * The unpacked layer is used only once the blob verified against its
 * digest; until it is committed it sits in a temp dir that a failure drops.
 */
async function downloadAndUnpack(d: PullDeps, client: RepositoryClient, desc: Descriptor, bar: LayerProgress, tx: PullTransaction, signal?: AbortSignal): Promise<UnpackedLayer> {
  const tee = new PassThrough({ highWaterMark: 1 << 20 });
  let downloaded = false;
  const unpacking = unpack(d, tee, desc, bar, () => downloaded);
  // an unpack that fails early stops reading: drop the tee so the download goes on without it
  unpacking.catch(() => tee.destroy());
  try {
    const res = await downloadBlob(client, d.content, desc, {
      onBytes: (n) => bar.bytes('Downloading', n, desc.size),
      ...(signal ? { signal } : {}),
      sink: tee,
    });
    if (res.created) tx.blobs.add(desc.digest);
  } catch (err) {
    const u = await unpacking.catch(() => undefined);
    await u?.discard();
    throw err;
  }
  downloaded = true;
  bar.status('Verifying Checksum');
  bar.status('Download complete');
  try {
    return await unpacking;
  } catch (err) {
    // the registry sent the blob again from its first byte mid-way: unpack the verified blob instead
    if (tee.errored instanceof DownloadRestarted) return unpack(d, d.content.read(desc.digest), desc, bar);
    throw err;
  }
}

/** Unpacks a layer blob's bytes into a temp dir, whatever its compression, reporting `Extracting` (once `report` says so). */
async function unpack(d: PullDeps, source: Readable, desc: Descriptor, bar: LayerProgress, report: () => boolean = () => true): Promise<UnpackedLayer> {
  let read = 0;
  // pipeline: a source that fails (a dropped download) fails the unpack instead of leaving it waiting
  const counted = pipeline(source, new Transform({
    transform(chunk: Buffer, _enc, cb) {
      read += chunk.length;
      if (report()) bar.bytes('Extracting', read, desc.size);
      cb(null, chunk);
    },
  }), () => {});
  const { stream } = await decompressed(counted);
  const u = await d.layers.unpack(stream);
  bar.bytes('Extracting', desc.size, desc.size, true);
  return u;
}

/** What a pull added, so a failure can take it back. */
class PullTransaction {
  readonly blobs = new Set<Digest>();
  readonly layers: Digest[] = [];

  constructor(private readonly d: PullDeps) {}

  get created(): boolean {
    return this.layers.length > 0 || this.blobs.size > 0;
  }

  async rollback(): Promise<void> {
    const used = new Set<Digest>();
    for (const img of this.d.images.list()) for (const c of chainIds(img.config.rootfs.diff_ids)) used.add(c);
    for (const chain of [...this.layers].reverse()) {
      if (used.has(chain)) continue;
      const info = await this.d.layers.get(chain).catch(() => undefined);
      await this.d.layers.remove(chain).catch(cleanupFailed(this.d.log, 'remove a pulled layer', { chain }));
      if (info) await this.d.layerBlobs.prune(info.diffId, (b) => !this.blobs.has(b));
    }
    const referenced = new Set<Digest>(this.d.images.list().map((i) => i.id));
    for (const digest of this.blobs) if (!referenced.has(digest)) await this.d.content.delete(digest).catch(cleanupFailed(this.d.log, 'remove a pulled blob', { digest }));
  }
}

/**
 * Docker's wording and kinds for a manifest that cannot be had (moby's
 * translatePullError): unknown or denied is "pull access denied" (404);
 * unauthorized stays a plain error (500): a 401 would make the docker CLI
 * stop and prompt for a login.
 */
export function manifestError(ref: Reference, err: unknown): unknown {
  const name = familiarName({ domain: ref.domain, path: ref.path });
  const why = (err as Error).message?.replace(/^manifest for \S+: /, '') ?? '';
  if (err instanceof NotFound && err.code === 'registry.not_found') {
    return new NotFound('image.pull_not_found', `manifest for ${familiarString(ref)} not found: ${why}`);
  }
  if (err instanceof Forbidden) {
    return new NotFound('image.pull_denied', `pull access denied for ${name}, repository does not exist or may require 'docker login': ${why}`);
  }
  if (err instanceof Unauthorized) return new SystemError('image.pull_unauthorized', why);
  return err;
}
