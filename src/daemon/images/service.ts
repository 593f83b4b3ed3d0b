/**
 * Image operations the API offers: list, inspect, history, import, load,
 * save, tag, remove, prune. Layers are shared, so removing an image releases
 * only the layers no other image or container stands on (gc.ts).
 */
import type { Readable } from 'node:stream';
import type { Filters } from '../../api/filters.js';
import type {
  ImageDeleteResponseItem, ImageHistoryItem, ImageInspect, ImagesPruneResponse, ImageSummary, JSONMessage,
} from '../../api/types/index.js';
import { Conflict, InvalidParameter } from '../../errdefs/index.js';
import { shortId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import type { TarWriter } from '../../lib/tar/index.js';
import { chainIds, type Digest } from '../../oci/index.js';
import { familiarString, isValidTag, parseReference, withDefaultTag } from '../../oci/reference.js';
import type { ContentStore } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import type { EventBus } from '../events/event-bus.js';
import type { LayerStore } from '../layers/layer-store.js';
import { releaseImage, type GcDeps } from './gc.js';
import { imageHistory } from './history.js';
import type { Image, ImageStore } from './image-store.js';
import { importRootfs, type ImportOptions } from './import.js';
import { PRUNE_KEYS, selectImages, shownReferences } from './list-filter.js';
import { loadArchive, type LoadedImage } from './load.js';
import { layerSource, namesFor, planSave, writeArchive, type SaveItem } from './save.js';
import { imageInspect, imageSummary } from './views.js';

export interface ImageServiceDeps {
  images: ImageStore;
  layers: LayerStore;
  content: ContentStore;
  layerBlobs: LayerBlobIndex;
  events: EventBus;
  log: Logger;
  engineVersion: string;
  /** Containers created from an image; containers are not this module's business otherwise. */
  containersUsing(imageId: Digest): { id: string; running: boolean }[];
  /** Top layer chain ids of every container (their layers stay while the container exists). */
  containerLayers(): Digest[];
}

export class ImageService {
  constructor(private readonly d: ImageServiceDeps) {}

  private get gc(): GcDeps {
    return this.d;
  }

  list(opts: { all: boolean; filters: Filters; apiAtLeast144: boolean }): ImageSummary[] {
    const store = this.d.images;
    const imgs = store.list().sort((a, b) => (a.config.created ?? '') < (b.config.created ?? '') ? 1 : -1);
    const picked = selectImages(imgs, opts.filters, {
      all: opts.all,
      tagsOf: (id) => store.tagsOf(id),
      hasChildren: (id) => store.children(id).length > 0,
      resolve: (ref) => store.tryResolve(ref),
    });
    return picked.map((img) => imageSummary(img, store.tagsOf(img.id), opts.apiAtLeast144, (refs) => shownReferences(refs, opts.filters)));
  }

  async inspect(ref: string, apiAtLeast145: boolean): Promise<ImageInspect> {
    const img = this.d.images.resolve(ref);
    const lower = img.chainId ? await this.d.layers.lowerDirs(img.chainId) : [];
    return imageInspect(img, this.d.images.tagsOf(img.id), lower, apiAtLeast145);
  }

  async history(ref: string): Promise<ImageHistoryItem[]> {
    const img = this.d.images.resolve(ref);
    const sizes: number[] = [];
    for (const c of chainIds(img.config.rootfs.diff_ids)) sizes.push((await this.d.layers.get(c).catch(() => ({ size: 0 }))).size);
    return imageHistory(img, sizes, (id) => this.d.images.get(id), (id) => this.d.images.tagsOf(id));
  }

  resolve(ref: string): Image {
    return this.d.images.resolve(ref);
  }

  async import(body: Readable, opts: Omit<ImportOptions, 'engineVersion'>): Promise<Digest> {
    const img = await importRootfs(this.d, body, { ...opts, engineVersion: this.d.engineVersion });
    this.d.events.publish('image', 'import', img.id, opts.repo ? { name: opts.repo } : {});
    return img.id;
  }

  /** `docker load`: `progress` gets Docker's stream messages, the `Loaded image` lines included. */
  async load(body: Readable, quiet: boolean, progress: (m: JSONMessage) => void): Promise<LoadedImage[]> {
    const loaded = await loadArchive(this.d, body, (m) => {
      if (!quiet || m.stream) progress(m);
    });
    for (const img of loaded) {
      for (const tag of img.tags) progress({ stream: `Loaded image: ${tag}\n` });
      if (img.tags.length === 0) progress({ stream: `Loaded image ID: ${img.id}\n` });
      this.d.events.publish('image', 'load', img.id, img.tags[0] ? { name: img.tags[0] } : {});
    }
    return loaded;
  }

  /**
   * `docker save`: resolves every name first (404 before any byte), then
   * returns the writer that streams the archive.
   */
  async save(names: string[]): Promise<(tar: TarWriter) => Promise<void>> {
    if (names.length === 0) throw new InvalidParameter('image.save_no_names', 'no images specified');
    const items: SaveItem[] = [];
    for (const name of names) {
      const image = this.d.images.resolve(name);
      const tags = namesFor(name, () => this.d.images.allTags()).filter((t) => this.d.images.tryResolve(t)?.id === image.id);
      const existing = items.find((i) => i.image.id === image.id);
      if (existing) existing.names.push(...tags.filter((t) => !existing.names.includes(t)));
      else items.push({ image, names: tags });
    }
    const planned = [];
    for (const { image, names: imageNames } of items) {
      const layers = [];
      for (const diffId of image.config.rootfs.diff_ids) layers.push(layerSource(diffId, await this.d.layerBlobs.get(diffId)));
      planned.push({ id: image.id, names: imageNames, config: await this.d.content.readBytes(image.id), layers });
    }
    const files = planSave(planned);
    for (const { image } of items) this.d.events.publish('image', 'save', image.id, {});
    const mtime = Math.floor(Date.now() / 1000);
    return (tar) => writeArchive(this.d.content, files, tar, mtime);
  }

  async tag(ref: string, repo: string, tag: string | undefined): Promise<void> {
    const img = this.d.images.resolve(ref);
    if (tag && !isValidTag(tag)) throw new InvalidParameter('image.invalid_tag', `invalid tag format`);
    const target = parseReference(repo);
    if (tag) target.tag = tag;
    const name = familiarString(withDefaultTag(target));
    await this.d.images.tag(img.id, name);
    this.d.events.publish('image', 'tag', img.id, { name });
  }

  /**
   * `docker rmi` with moby's rules: a name untags, and deletes the image
   * only when it was the last reference; an id deletes, refusing (409) while
   * children or containers depend on it unless the conflict can be forced.
   * Then, unless `noprune`, its parents go too while each one is untagged
   * and nothing else stands on it (moby's imageDeleteHelper with prune).
   */
  async remove(ref: string, opts: { force: boolean; noprune: boolean }): Promise<ImageDeleteResponseItem[]> {
    const img = this.d.images.resolve(ref);
    const out: ImageDeleteResponseItem[] = [];
    let untaggedByName = false;
    if (!isIdReference(img.id, ref)) {
      const users = this.d.containersUsing(img.id);
      if (!opts.force && this.d.images.tagsOf(img.id).length <= 1 && users[0]) {
        throw new Conflict('image.in_use', `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0].id)} is using its referenced image ${shortId(img.id)}`);
      }
      await this.untag(img, familiarString(withDefaultTag(parseReference(ref))), out);
      if (this.d.images.tagsOf(img.id).length > 0) return out;
      untaggedByName = true;
    } else if (singleRepository(this.d.images.tagsOf(img.id)) || opts.force) {
      const conflict = this.conflict(img, opts.force ? 'hard' : 'all');
      if (conflict) throw conflict;
      for (const t of this.d.images.tagsOf(img.id)) await this.untag(img, t, out);
    }
    const conflict = this.conflict(img, opts.force ? 'hard' : 'all');
    if (conflict) {
      if (untaggedByName) return out; // the untag was the job; the image stays for its users
      throw conflict;
    }
    await this.deleteImage(img, out);
    if (!opts.noprune) await this.pruneParents(img, out);
    return out;
  }

  /** Quietly, as moby: the first parent that is tagged or in use ends the walk. */
  private async pruneParents(img: Image, out: ImageDeleteResponseItem[]): Promise<void> {
    for (let id = img.parent; id;) {
      const parent = this.d.images.get(id);
      if (!parent || this.d.images.tagsOf(parent.id).length || this.d.images.children(parent.id).length || this.d.containersUsing(parent.id).length) return;
      await this.deleteImage(parent, out);
      id = parent.parent;
    }
  }

  private async deleteImage(img: Image, out: ImageDeleteResponseItem[]): Promise<void> {
    await this.d.images.delete(img.id);
    out.push({ Deleted: img.id });
    this.d.events.publish('image', 'delete', img.id, {});
    await releaseImage(this.gc, img.config.rootfs.diff_ids, img.id, img.manifests);
  }

  /**
   * `docker image prune`: dangling images (untagged, no children, no
   * containers); with `dangling=false` (`-a`) every image no container uses.
   */
  async prune(filters: Filters): Promise<ImagesPruneResponse> {
    const danglingOnly = filters.accept(PRUNE_KEYS).bool('dangling', true);
    const before = await this.layersSize();
    const deleted: ImageDeleteResponseItem[] = [];
    const candidates = selectImages(this.d.images.list(), filters.without('dangling'), {
      all: true, tagsOf: (id) => this.d.images.tagsOf(id), hasChildren: () => false, resolve: () => undefined,
    });
    for (let progress = true; progress;) {
      progress = false;
      for (const img of candidates) {
        if (!this.d.images.get(img.id) || this.d.containersUsing(img.id).length || this.d.images.children(img.id).length) continue;
        const tags = this.d.images.tagsOf(img.id);
        if (danglingOnly && tags.length) continue;
        for (const t of tags) await this.untag(img, t, deleted);
        await this.deleteImage(img, deleted);
        progress = true;
      }
    }
    this.d.events.publish('image', 'prune', '', { reclaimed: String(before - (await this.layersSize())) });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: Math.max(0, before - (await this.layersSize())) };
  }

  /**
   * `builder prune`: the build cache is the untagged step images builds
   * left; each one no container, child or tag holds goes, leaves first.
   */
  /** `builder prune`: one step image (untagged, with no children and no containers), its layers released. */
  async removeCacheImage(id: Digest): Promise<void> {
    const img = this.d.images.get(id);
    if (!img || !img.cacheKey || this.d.images.tagsOf(id).length || this.d.images.children(id).length || this.d.containersUsing(id).length) return;
    await this.deleteImage(img, []);
  }

  private async layersSize(): Promise<number> {
    return (await this.d.layers.list()).reduce((n, l) => n + l.size, 0);
  }

  /** Hard conflicts cannot be forced (children, running users); soft ones can. */
  private conflict(img: Image, which: 'hard' | 'all'): Conflict | undefined {
    const id = shortId(img.id);
    const hard = (why: string) => new Conflict('image.delete_conflict', `conflict: unable to delete ${id} (cannot be forced) - ${why}`);
    const soft = (why: string) => new Conflict('image.delete_conflict', `conflict: unable to delete ${id} (must be forced) - ${why}`);
    if (this.d.images.children(img.id).length) return hard('image has dependent child images');
    const users = this.d.containersUsing(img.id);
    const running = users.find((u) => u.running);
    if (running) return hard(`image is being used by running container ${shortId(running.id)}`);
    if (which === 'hard') return undefined;
    if (this.d.images.tagsOf(img.id).length > 1) return soft('image is referenced in multiple repositories');
    if (users[0]) return soft(`image is being used by stopped container ${shortId(users[0].id)}`);
    return undefined;
  }

  private async untag(img: Image, name: string, out: ImageDeleteResponseItem[]): Promise<void> {
    await this.d.images.untag(name);
    out.push({ Untagged: name });
    this.d.events.publish('image', 'untag', img.id, { name });
  }
}

/** True when `ref` names the image by id (`sha256:…` or a hex prefix) rather than by name. */
function isIdReference(id: Digest, ref: string): boolean {
  const hex = id.slice(7);
  return ref === id || (ref.startsWith('sha256:') && hex.startsWith(ref.slice(7))) || (/^[a-f0-9]+$/.test(ref) && hex.startsWith(ref));
}

/** Do all tags belong to one repository (so deleting by id may drop them all)? */
function singleRepository(tags: string[]): boolean {
  return new Set(tags.map((t) => t.replace(/:[^:/]+$/, ''))).size <= 1;
}
