/**
 * The container side of layers: `diff` (changes in the upper dir), `export`
 * (the flattened rootfs as a tar) and `commit` (upper dir → new layer →
 * new image). Reads layers directly; a stopped container's rootfs is seen
 * through a read-only overlay of its layers (upper, init, image layers as
 * lower dirs), mounted under <data-root>/tmp/ only for the export, so it
 * never competes with a start for `merged`.
 *
 *   tmp/export-<random>/   read-only overlays during an export (swept at start-up)
 */
import { randomBytes } from '../../lib/lazy-crypto.js';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { CommitRequest } from '../../api/types/index.js';
import { InvalidParameter } from '../../errdefs/index.js';
import type { OutputFifo } from '../../lib/exec.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';
import { mount, mountsUnder, unmount } from '../../lib/mount.js';
import { tee } from '../../lib/streams.js';
import { MediaType, type ContainerDefaults, type Digest, type ImageConfig } from '../../oci/index.js';
import { parseReference, familiarString, isValidTag, withDefaultTag } from '../../oci/reference.js';
import type { ContentStore } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import type { EventBus } from '../events/event-bus.js';
import { applyChanges } from '../images/changes.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerInfo, LayerStore } from '../layers/layer-store.js';
import { directoryTar, upperChanges, upperLayerTar, type Change } from '../layers/upper-dir.js';
import { removeMountStubs } from '../layers/mount-stubs.js';
import type { Task } from '../runtime/runtime.js';
import type { ContainerRecord } from './record.js';
import type { ContainerPaths } from './rootfs.js';

/** The digest of an empty tar (two zero blocks): a commit that changed nothing adds no layer. */
export const EMPTY_TAR_DIGEST: Digest = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface ContainerFilesystemDeps {
  /** The record by id, name or prefix (404 otherwise). */
  container(ref: string): ContainerRecord;
  paths(id: string): ContainerPaths;
  /** The task of a running, unpaused container (to freeze it during commit). */
  runningTask(ref: string): { task: Task };
  images: ImageStore;
  layers: LayerStore;
  content: ContentStore;
  layerBlobs: LayerBlobIndex;
  events: EventBus;
  log: Logger;
  tmpRoot: string;
  engineVersion: string;
}

export class ContainerFilesystem {
  constructor(private readonly d: ContainerFilesystemDeps) {}

  /** Sweeps read-only mounts an interrupted export left. */
  async init(): Promise<void> {
    await mkdir(this.d.tmpRoot, { recursive: true });
    for (const m of await mountsUnder(this.d.tmpRoot)) await unmount(m, true).catch(cleanupFailed(this.d.log, 'unmount an export overlay', { mount: m }));
    for (const name of await readdir(this.d.tmpRoot)) await rm(join(this.d.tmpRoot, name), { recursive: true, force: true });
  }

  private async lowerDirs(rec: ContainerRecord): Promise<string[]> {
    const p = this.d.paths(rec.id);
    return [p.init, ...(rec.layer ? await this.d.layers.lowerDirs(rec.layer) : [])];
  }

  async changes(ref: string): Promise<Change[]> {
    const rec = this.d.container(ref);
    return upperChanges(this.d.paths(rec.id).upper, await this.lowerDirs(rec));
  }

  /** `docker export`: the merged rootfs, no whiteouts, `.dockerenv` included. */
  async export(ref: string): Promise<Readable> {
    const rec = this.d.container(ref);
    const p = this.d.paths(rec.id);
    if (rec.state.Running && (await mountsUnder(p.merged)).includes(p.merged)) {
      this.d.events.publish('container', 'export', rec.id, { name: rec.name, image: rec.config.Image });
      return directoryTar(p.merged);
    }
    const target = join(this.d.tmpRoot, `export-${randomBytes(8).toString('hex')}`);
    await mkdir(target);
    const lower = [p.upper, ...(await this.lowerDirs(rec))];
    try {
      await mount({ type: 'overlay', source: 'overlay', options: ['ro', `lowerdir=${lower.join(':')}`] }, target);
    } catch (err) {
      await rmdir(target).catch(cleanupFailed(this.d.log, 'remove an export mountpoint', { target }));
      throw err;
    }
    const release = async () => {
      await unmount(target, true).catch((e: Error) => this.d.log.warn('unmounting an export failed', { target, error: e.message }));
      await rmdir(target).catch(cleanupFailed(this.d.log, 'remove an export mountpoint', { target }));
    };
    try {
      const tar = await directoryTar(target);
      const out = new PassThrough({ highWaterMark: 1 << 20 });
      tar.once('close', () => void release());
      tar.once('error', (e) => out.destroy(e));
      out.once('close', () => tar.destroy());
      tar.pipe(out);
      this.d.events.publish('container', 'export', rec.id, { name: rec.name, image: rec.config.Image });
      return out;
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** `docker commit`: returns the new image id. */
  async commit(o: CommitRequest): Promise<Digest> {
    const rec = this.d.container(o.container);
    const target = commitTarget(o.repo, o.tag);
    const parent = this.d.images.get(rec.image);
    const configBase = { ...rec.config, ...(o.config ?? {}) } as unknown as ContainerDefaults;
    const merged = applyChanges(configBase, o.changes ?? []);
    let task: Task | undefined;
    if (o.pause && rec.state.Running && !rec.state.Paused) task = this.d.runningTask(rec.id).task;
    await task?.pause();
    let layer: LayerInfo;
    try {
      layer = await this.storeUpperLayer(this.d.paths(rec.id).upper, rec.layer);
    } finally {
      await task?.resume().catch((e: Error) => this.d.log.warn('resuming after commit failed', { id: rec.id, error: e.message }));
    }
    const empty = layer.diffId === EMPTY_TAR_DIGEST;
    const now = new Date().toISOString();
    const parentDiffIds = parent?.config.rootfs.diff_ids ?? [];
    const config: ImageConfig = {
      architecture: parent?.config.architecture ?? 'amd64',
      os: parent?.config.os ?? 'linux',
      ...(parent?.config.variant ? { variant: parent.config.variant } : {}),
      author: o.author ?? '',
      comment: o.comment ?? '',
      config: merged,
      container: rec.id,
      container_config: rec.config as unknown as ContainerDefaults,
      created: now,
      docker_version: this.d.engineVersion,
      history: [
        ...(parent?.config.history ?? []),
        {
          created: now,
          created_by: [...(rec.config.Entrypoint ?? []), ...(rec.config.Cmd ?? [])].join(' '),
          ...(o.author ? { author: o.author } : {}),
          ...(o.comment ? { comment: o.comment } : {}),
          ...(empty ? { empty_layer: true } : {}),
        },
      ],
      rootfs: { type: 'layers', diff_ids: empty ? parentDiffIds : [...parentDiffIds, layer.diffId] },
    };
    const parentSize = parent?.size ?? 0;
    try {
      const img = await this.d.images.create(Buffer.from(JSON.stringify(config)), {
        size: parentSize + (empty ? 0 : layer.size), parent: rec.image,
        ...(empty ? (rec.layer ? { chainId: rec.layer } : {}) : { chainId: layer.chainId }),
      });
      if (target) await this.d.images.tag(img.id, target);
      this.d.events.publish('container', 'commit', rec.id, { comment: o.comment ?? '', imageID: img.id, imageRef: target ?? '' });
      return img.id;
    } finally {
      // an empty diff still made a layer: nothing refers to it
      if (empty && !this.d.images.list().some((i) => i.chainId === layer.chainId)) await this.d.layers.remove(layer.chainId);
    }
  }

  /**
   * The builder's commit: the container's changes as a layer (stored and
   * unpacked), without making an image; an empty change set gives the empty
   * tar's diffID and no layer is kept for it. `stubs` are mount points the
   * runtime made for the step's mounts: left empty, they are not changes.
   */
  async captureLayer(ref: string, stubs: string[] = []): Promise<LayerInfo> {
    const rec = this.d.container(ref);
    return this.captureUpper(this.d.paths(rec.id).upper, rec.layer, stubs);
  }

  /** captureLayer for an upper dir that belongs to no container record (a builder-owned RUN step's). */
  async captureUpper(upper: string, parent: Digest | undefined, stubs: string[] = [], fifo?: OutputFifo): Promise<LayerInfo> {
    await removeMountStubs(upper, stubs);
    const layer = await this.storeUpperLayer(upper, parent, fifo);
    if (layer.diffId === EMPTY_TAR_DIGEST && !this.d.images.list().some((i) => i.chainId === layer.chainId)) await this.d.layers.remove(layer.chainId);
    return layer;
  }

  /** Tars the upper dir once, into the content store and the layer store at the same time. */
  private async storeUpperLayer(upper: string, parent: Digest | undefined, fifo?: OutputFifo): Promise<LayerInfo> {
    const source = upperLayerTar(upper, fifo);
    const toContent = new PassThrough({ highWaterMark: 1 << 20 });
    const toLayer = new PassThrough({ highWaterMark: 1 << 20 });
    // the layer store's diffID is the blob's digest (an uncompressed tar): hashed once, there
    const blob = this.d.content.writer({ hashedAlongside: true });
    const storing = new Promise<void>((resolve, reject) => {
      toContent.pipe(blob);
      blob.once('finish', resolve).once('error', reject);
      toContent.once('error', reject);
    });
    const copying = tee(source, [toContent, toLayer]);
    try {
      const [layer] = await Promise.all([this.d.layers.apply(parent, toLayer), copying, storing]);
      const stored = await blob.commit({ digest: layer.diffId });
      if (layer.diffId !== EMPTY_TAR_DIGEST) {
        await this.d.layerBlobs.record(layer.diffId, stored.size, { mediaType: MediaType.OciLayer, digest: stored.digest, size: stored.size });
      } else if (stored.created) {
        await this.d.content.delete(stored.digest);
      }
      return layer;
    } catch (err) {
      source.destroy(err as Error);
      toContent.destroy(err as Error);
      toLayer.destroy(err as Error);
      await Promise.allSettled([copying, storing]);
      await blob.discard();
      throw err;
    }
  }
}

/** The name a commit tags, checked before any work: `repo` may carry the tag itself. */
export function commitTarget(repo: string | undefined, tag: string | undefined): string | undefined {
  if (!repo) {
    if (tag) throw new InvalidParameter('image.tag_no_repo', 'repository name must have at least one component');
    return undefined;
  }
  const ref = parseReference(repo);
  if (ref.digest) throw new InvalidParameter('image.tag_digest', 'refusing to create a tag with a digest reference');
  if (tag) {
    if (!isValidTag(tag)) throw new InvalidParameter('image.invalid_tag', `invalid tag format: ${tag}`);
    ref.tag = tag;
  }
  return familiarString(withDefaultTag(ref));
}
