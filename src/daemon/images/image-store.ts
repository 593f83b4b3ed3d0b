/**
 * Image records (keyed by config digest) and the tag index, held in memory
 * and written atomically. Config bytes live in the content store.
 *
 *   images/
 *     db/<config hex>.json    { id, chainId, size, parent, repoDigests, lastTagTime }
 *     repositories.json       { "docker.io/library/busybox:latest": "sha256:<config hex>" }
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { readJson, writeJsonAtomic } from '../../lib/atomic-file.js';
import { hexOf, isSha256Digest, sha256Digest, sha256Hex, type Digest } from '../../oci/digest.js';
import type { ImageConfig } from '../../oci/image.js';
import { checkImageConfig } from '../../oci/validate.js';
import {
  familiarString, fullString, InvalidReferenceError, parseReference, withDefaultTag, type Reference,
} from '../../oci/reference.js';
import type { ContentStore } from '../content/content-store.js';

export interface ImageRecord {
  id: Digest;
  /** Chain id of the top layer; absent for an image without layers. */
  chainId?: Digest;
  /** Bytes of all its layers' files. */
  size: number;
  /** Local parent (commit, build), shown by history and `ParentId`. */
  parent?: Digest;
  /** `name@sha256:…` of manifests it was pulled or pushed as (full names). */
  repoDigests: string[];
  /** Manifest (and index) blobs kept in the content store for this image; the GC keeps them. */
  manifests?: Digest[];
  lastTagTime?: string;
  /** A build step's cache key: the step that made this image from `parent` (builder/). */
  cacheKey?: string;
}

export interface Image extends ImageRecord {
  config: ImageConfig;
}

export function noSuchImage(ref: string): NotFound {
  return new NotFound('image.not_found', `No such image: ${ref}`);
}

export class ImageStore {
  private readonly images = new Map<Digest, Image>();
  /** full reference string (`docker.io/library/busybox:latest`) → image id */
  private tags = new Map<string, Digest>();
  private readonly dbDir: string;
  private readonly tagsFile: string;

  constructor(root: string, private readonly content: ContentStore) {
    this.dbDir = join(root, 'db');
    this.tagsFile = join(root, 'repositories.json');
  }

  async init(): Promise<void> {
    await mkdir(this.dbDir, { recursive: true });
    for (const name of await readdir(this.dbDir)) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      const rec = await readJson<ImageRecord>(join(this.dbDir, name));
      try {
        const config = checkImageConfig(JSON.parse((await this.content.readBytes(rec.id)).toString('utf8')));
        this.images.set(rec.id, { ...rec, config });
      } catch {
        // a record whose config never landed is a half-created image, and one whose layer ids
        // are not digests came from a crafted image an older berth accepted: drop both
        await rm(join(this.dbDir, name), { force: true });
      }
    }
    try {
      const saved = await readJson<Record<string, Digest>>(this.tagsFile);
      this.tags = new Map(Object.entries(saved).filter(([, id]) => this.images.has(id)));
    } catch {
      this.tags = new Map();
    }
  }

  private async saveTags(): Promise<void> {
    this.byImage = undefined;
    await writeJsonAtomic(this.tagsFile, Object.fromEntries(this.tags));
  }

  private recordPath(id: Digest): string {
    return join(this.dbDir, `${sha256Hex(id)}.json`);
  }

  private async saveRecord(img: Image): Promise<void> {
    const { config: _config, ...rec } = img;
    await writeJsonAtomic(this.recordPath(img.id), rec);
  }

  /** Registers an image whose config blob and layers are already stored. */
  async add(rec: ImageRecord): Promise<Image> {
    const existing = this.images.get(rec.id);
    if (existing) return existing;
    const config = checkImageConfig(JSON.parse((await this.content.readBytes(rec.id)).toString('utf8')));
    const img: Image = { ...rec, config };
    await this.saveRecord(img);
    this.images.set(img.id, img);
    return img;
  }

  /**
   * Stores config bytes and registers the image (import, commit, build).
   * The blob and the record are written at once: a record whose config did
   * not land (a crash between the two) is dropped at the next start (init).
   */
  async create(configBytes: Buffer, rec: Omit<ImageRecord, 'id' | 'repoDigests'> & { repoDigests?: string[] }): Promise<Image> {
    const id = sha256Digest(configBytes);
    const existing = this.images.get(id);
    if (existing) return existing;
    const img: Image = { repoDigests: [], ...rec, id, config: checkImageConfig(JSON.parse(configBytes.toString('utf8'))) };
    try {
      await Promise.all([this.content.put(configBytes), this.saveRecord(img)]);
    } catch (err) {
      await rm(this.recordPath(id), { force: true });
      throw err;
    }
    this.images.set(id, img);
    return img;
  }

  get(id: Digest): Image | undefined {
    return this.images.get(id);
  }

  list(): Image[] {
    return [...this.images.values()];
  }

  /**
   * Finds an image the way docker does: by `sha256:<id>`, by name[:tag] or
   * name@digest, then by a unique id prefix.
   */
  resolve(ref: string): Image {
    const found = this.tryResolve(ref);
    if (!found) throw noSuchImage(this.display(ref));
    return found;
  }

  tryResolve(ref: string): Image | undefined {
    if (ref.startsWith('sha256:')) {
      if (isSha256Digest(ref)) return this.images.get(ref);
      return this.byPrefix(ref.slice(7));
    }
    let parsed: Reference | undefined;
    try {
      parsed = withDefaultTag(parseReference(ref));
    } catch (err) {
      if (!(err instanceof InvalidReferenceError)) throw err;
    }
    if (parsed) {
      if (parsed.digest) {
        const name = `${parsed.domain}/${parsed.path}@${parsed.digest}`;
        for (const img of this.images.values()) if (img.repoDigests.includes(name)) return img;
      } else {
        const id = this.tags.get(fullString(parsed));
        if (id) return this.images.get(id);
      }
    }
    if (/^[a-f0-9]{1,64}$/.test(ref)) return this.byPrefix(ref);
    return undefined;
  }

  private byPrefix(prefix: string): Image | undefined {
    if (!/^[a-f0-9]+$/.test(prefix)) return undefined;
    let hit: Image | undefined;
    for (const img of this.images.values()) {
      if (!hexOf(img.id).startsWith(prefix)) continue;
      if (hit) throw new InvalidParameter('image.ambiguous_id', `multiple IDs found with provided prefix: ${prefix}`);
      hit = img;
    }
    return hit;
  }

  private display(ref: string): string {
    try {
      return familiarString(withDefaultTag(parseReference(ref)));
    } catch {
      return ref;
    }
  }

  /** image id → its familiar tags, rebuilt after a tag change (listing 200 images stays linear). */
  private byImage: Map<Digest, string[]> | undefined;

  /** Familiar `name:tag` strings pointing at an image. */
  tagsOf(id: Digest): string[] {
    if (!this.byImage) {
      this.byImage = new Map();
      for (const [ref, target] of this.tags) {
        const list = this.byImage.get(target) ?? [];
        list.push(familiarString(parseReference(ref)));
        this.byImage.set(target, list);
      }
      for (const list of this.byImage.values()) list.sort();
    }
    return [...(this.byImage.get(id) ?? [])];
  }

  /** Points `ref` at image `id`; returns the image it pointed at before, if another. */
  async tag(id: Digest, ref: string): Promise<Digest | undefined> {
    const img = this.images.get(id);
    if (!img) throw noSuchImage(id);
    const parsed = parseReference(ref);
    if (parsed.digest) throw new InvalidParameter('image.tag_digest', 'refusing to create a tag with a digest reference');
    const key = fullString(withDefaultTag(parsed));
    const previous = this.tags.get(key);
    this.tags.set(key, id);
    img.lastTagTime = new Date().toISOString();
    // two files, each written atomically on its own: one wait for both fsyncs instead of two in a row;
    // the tag list only when it changed (a cached rebuild tags the same image again: its time alone moves)
    await Promise.all([previous !== id ? this.saveTags() : undefined, this.saveRecord(img)]);
    return previous !== id ? previous : undefined;
  }

  /** Removes a tag; returns the image it pointed at. */
  async untag(ref: string): Promise<Digest | undefined> {
    const key = fullString(withDefaultTag(parseReference(ref)));
    const id = this.tags.get(key);
    if (!id) return undefined;
    this.tags.delete(key);
    await this.saveTags();
    return id;
  }

  async addRepoDigest(id: Digest, repoDigest: string): Promise<void> {
    const img = this.images.get(id);
    if (!img || img.repoDigests.includes(repoDigest)) return;
    img.repoDigests.push(repoDigest);
    await this.saveRecord(img);
  }

  /** Remembers manifest blobs an image was pulled or pushed as (the GC keeps them). */
  async addManifests(id: Digest, digests: Digest[]): Promise<void> {
    const img = this.images.get(id);
    if (!img) return;
    const missing = digests.filter((d) => !(img.manifests ?? []).includes(d));
    if (!missing.length) return;
    img.manifests = [...(img.manifests ?? []), ...missing];
    await this.saveRecord(img);
  }

  /** Deletes the record (tags must be gone). The caller releases layers and blobs. */
  async delete(id: Digest): Promise<void> {
    if (this.tagsOf(id).length) throw new Conflict('image.tagged', `image ${id} is still tagged`);
    this.images.delete(id);
    await rm(this.recordPath(id), { force: true });
  }

  /** Drops a record and every tag pointing at it (GC of a half-made image). */
  async forget(id: Digest): Promise<void> {
    let untagged = false;
    for (const [ref, target] of this.tags) {
      if (target !== id) continue;
      this.tags.delete(ref);
      untagged = true;
    }
    if (untagged) await this.saveTags();
    this.images.delete(id);
    await rm(this.recordPath(id), { force: true });
  }

  /** Every tag, familiar form. */
  allTags(): string[] {
    return [...this.tags.keys()].map((ref) => familiarString(parseReference(ref))).sort();
  }

  /**
   * The image a build step with `key` made from `parent` before, if it is
   * still here; of several (a --no-cache build makes a second chain of the
   * same steps), the newest, as dockerd's getLocalCachedImage: the next step
   * then follows the chain the last build made, not an older one that lacks
   * its files.
   */
  findCached(parent: Digest | undefined, key: string): Image | undefined {
    let match: Image | undefined;
    for (const img of this.images.values()) {
      if (img.cacheKey !== key || img.parent !== parent) continue;
      if (!match || (img.config.created ?? '') >= (match.config.created ?? '')) match = img;
    }
    return match;
  }

  /** Children: images whose parent is `id`. */
  /** An untagged image with children: a build step, not a row of `docker images`. */
  isIntermediate(id: Digest): boolean {
    return this.tagsOf(id).length === 0 && this.children(id).length > 0;
  }

  children(id: Digest): Image[] {
    return this.list().filter((i) => i.parent === id);
  }
}

