/**
 * Image operations the API offers: list, inspect, import, tag, remove.
 * Layers are shared, so removing an image releases only the layers no
 * other image stands on.
 */
import type { Readable } from 'node:stream';
import type { ImageDeleteResponseItem, ImageInspect, ImageSummary } from '../../api/types/index.js';
import { Conflict, InvalidParameter } from '../../errdefs/index.js';
import { shortId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import { chainIds, type Digest } from '../../oci/index.js';
import { familiarString, isValidTag, parseReference, withDefaultTag } from '../../oci/reference.js';
import type { ContentStore } from '../content/content-store.js';
import type { EventBus } from '../events/event-bus.js';
import type { LayerStore } from '../layers/layer-store.js';
import type { Image, ImageStore } from './image-store.js';
import { importRootfs, type ImportOptions } from './import.js';
import { imageInspect, imageSummary } from './views.js';

export interface ImageServiceDeps {
  images: ImageStore;
  layers: LayerStore;
  content: ContentStore;
  events: EventBus;
  log: Logger;
  engineVersion: string;
  /** Containers created from an image; containers are not this module's business otherwise. */
  containersUsing(imageId: Digest): { id: string; running: boolean }[];
}

export class ImageService {
  constructor(private readonly d: ImageServiceDeps) {}

  list(opts: { all: boolean; filters: Map<string, string[]>; apiAtLeast144: boolean }): ImageSummary[] {
    const refFilters = opts.filters.get('reference') ?? [];
    const dangling = opts.filters.get('dangling');
    const out: ImageSummary[] = [];
    const imgs = this.d.images.list().sort((a, b) => (a.config.created ?? '') < (b.config.created ?? '') ? 1 : -1);
    for (const img of imgs) {
      const tags = this.d.images.tagsOf(img.id);
      if (dangling?.includes('true') && tags.length) continue;
      if (dangling?.includes('false') && !tags.length) continue;
      if (refFilters.length && !tags.some((t) => refFilters.some((f) => referenceMatches(f, t)))) continue;
      if (!opts.all && !tags.length && this.d.images.children(img.id).length) continue;
      out.push(imageSummary(img, tags, opts.apiAtLeast144));
    }
    return out;
  }

  async inspect(ref: string, apiAtLeast145: boolean): Promise<ImageInspect> {
    const img = this.d.images.resolve(ref);
    const lower = img.chainId ? await this.d.layers.lowerDirs(img.chainId) : [];
    return imageInspect(img, this.d.images.tagsOf(img.id), lower, apiAtLeast145);
  }

  resolve(ref: string): Image {
    return this.d.images.resolve(ref);
  }

  async import(body: Readable, opts: Omit<ImportOptions, 'engineVersion'>): Promise<Digest> {
    const img = await importRootfs(this.d, body, { ...opts, engineVersion: this.d.engineVersion });
    this.d.events.publish('image', 'import', img.id, opts.repo ? { name: opts.repo } : {});
    return img.id;
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
    } else if (singleRepository(this.d.images.tagsOf(img.id))) {
      const conflict = this.conflict(img, opts.force ? 'hard' : 'all');
      if (conflict) throw conflict;
      for (const t of this.d.images.tagsOf(img.id)) await this.untag(img, t, out);
    }
    const conflict = this.conflict(img, opts.force ? 'hard' : 'all');
    if (conflict) {
      if (untaggedByName) return out; // the untag was the job; the image stays for its users
      throw conflict;
    }
    await this.d.images.delete(img.id);
    out.push({ Deleted: img.id });
    this.d.events.publish('image', 'delete', img.id, {});
    await this.releaseLayers(img);
    return out;
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

  /** Removes the layers of a deleted image that no remaining image uses. */
  private async releaseLayers(img: Image): Promise<void> {
    const inUse = new Set<Digest>();
    for (const other of this.d.images.list()) for (const c of chainIds(other.config.rootfs.diff_ids)) inUse.add(c);
    for (const c of chainIds(img.config.rootfs.diff_ids).reverse()) {
      if (inUse.has(c)) break;
      await this.d.layers.remove(c);
    }
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

/** The `reference` filter: `busybox`, `busybox:*`, `org/*`, `localhost:5000/x:1`. */
function referenceMatches(pattern: string, tag: string): boolean {
  const full = pattern.includes(':') || pattern.includes('@') ? pattern : `${pattern}:*`;
  const re = new RegExp('^' + full.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('[^/]*') + '$');
  return re.test(tag) || re.test(tag.replace(/:[^:/]+$/, ''));
}
