/**
 * Unpacked read-only layers, keyed by chain id and shared by every image
 * that has them. Containers get them as overlay lower dirs (`lowerDirs`);
 * berthd mounts a container's rootfs itself (containers/rootfs.ts).
 *
 *   layers/
 *     <chain hex>/diff/        the unpacked layer (an overlay lower dir)
 *     <chain hex>/layer.json   { chainId, diffId, parent, size, tarSize }
 *     .tmp-<random>/           unpacks in progress (swept at start-up)
 */
import { randomBytes } from '../../lib/lazy-crypto.js';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFound } from '../../errdefs/index.js';
import { readJson, TEMP_PREFIX, writeJsonAtomic } from '../../lib/atomic-file.js';
import { sha256Digest, sha256Hex, type Digest } from '../../oci/digest.js';
import type { Mount } from '../../oci/runtime-spec.js';
import type { IdMap } from '../../lib/id-map.js';
import { applyLayer, type ApplyOptions } from './apply.js';

export interface LayerInfo {
  chainId: Digest;
  diffId: Digest;
  parent?: Digest;
  /** Bytes of regular files in this layer alone (cached at unpack time, for images, history and df). */
  size: number;
  /** Bytes of the uncompressed layer tar. */
  tarSize?: number;
}

/**
 * Worked example (what load and pull do for each layer, base first):
 *
 *   const chains = chainIds(config.rootfs.diff_ids);
 *   for (const [i, chain] of chains.entries()) {
 *     if (await layers.has(chain)) continue;                       // shared: already unpacked
 *     const { stream } = await decompressed(content.read(blob[i])); // gzip/zstd/none by magic bytes
 *     const info = await layers.apply(chains[i - 1], stream);      // unpacks into a temp dir, renames
 *     if (info.chainId !== chain) ...                               // the blob was not that diffID
 *   }
 *   const mount = overlayMount([containerInit, ...await layers.lowerDirs(top)], upper, work);
 *
 * A layer is removed only when no image or container stands on it (images/gc.ts).
 */
/** A layer unpacked into a temp dir, not yet placed on a parent (see `unpack`). */
export interface UnpackedLayer {
  diffId: Digest;
  size: number;
  tarSize: number;
  /** Removes the temp dir when the layer will not be committed. */
  discard(): Promise<void>;
}

/** How a layer's files are written (apply.ts): berth itself for the plain layers a build's COPY makes. */
export type UnpackOptions = Pick<ApplyOptions, 'writer'>;

export interface LayerStore {
  /** Unpacks an uncompressed layer tar on top of `parent`; idempotent per chain id. */
  apply(parent: Digest | undefined, tar: Readable, opts?: UnpackOptions): Promise<LayerInfo>;
  /**
   * The two halves of `apply`, for pulls that unpack several layers at once:
   * a layer's files do not depend on its parent's, only its chain id does.
   */
  unpack(tar: Readable, opts?: UnpackOptions): Promise<UnpackedLayer>;
  commit(parent: Digest | undefined, layer: UnpackedLayer): Promise<LayerInfo>;
  get(chainId: Digest): Promise<LayerInfo>;
  has(chainId: Digest): Promise<boolean>;
  list(): Promise<LayerInfo[]>;
  /** Directory of a layer's files (read-only by convention). */
  diffDir(chainId: Digest): string;
  /**
   * Lower dirs of a chain, top layer first (overlay's order); stacked, they
   * are the chain's filesystem. The copy store flattens: one dir.
   */
  lowerDirs(chainId: Digest): Promise<string[]>;
  remove(chainId: Digest): Promise<void>;
}

/**
 * The overlay mount of a container's rootfs, as data. `volatile`: the kernel
 * skips syncing the upper filesystem, whose unmount otherwise waits for the
 * writeback of everything dirty on the host's disk (a build step after a
 * large COPY: ~60 ms); only for an upper dir that is never mounted again
 * (after a crash the kernel refuses to remount it).
 */
export function overlayMount(lowerDirs: string[], upperDir: string, workDir: string, opts: { volatile?: boolean } = {}): Mount {
  return {
    type: 'overlay',
    source: 'overlay',
    options: [`lowerdir=${lowerDirs.join(':')}`, `upperdir=${upperDir}`, `workdir=${workDir}`, ...(opts.volatile ? ['volatile'] : [])],
  };
}

export interface OverlayLayerStoreOptions {
  /** userns-remap: files are stored owned by the host ids the container ids map to. */
  idMap?: IdMap;
  /** Bytes of one uncompressed layer tar; larger ones are refused while they stream (a decompression bomb fills no disk). */
  maxLayerSize?: number;
}

export class OverlayLayerStore implements LayerStore {
  private readonly cache = new Map<Digest, LayerInfo>();
  /** How whiteouts are unpacked: overlayfs's own form here; the copy store keeps the tar's. */
  protected readonly whiteouts: 'overlay' | 'oci' = 'overlay';

  constructor(private readonly root: string, private readonly opts: OverlayLayerStoreOptions = {}) {}

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const name of await readdir(this.root)) {
      if (name.startsWith(TEMP_PREFIX)) await rm(join(this.root, name), { recursive: true, force: true });
    }
  }

  private dirOf(chainId: Digest): string {
    return join(this.root, sha256Hex(chainId));
  }

  diffDir(chainId: Digest): string {
    return join(this.dirOf(chainId), 'diff');
  }

  async apply(parent: Digest | undefined, tar: Readable, opts: UnpackOptions = {}): Promise<LayerInfo> {
    if (parent && !(await this.has(parent))) {
      tar.resume();
      throw new NotFound('layer.not_found', `layer ${parent} does not exist`);
    }
    return this.commit(parent, await this.unpack(tar, opts));
  }

  async unpack(tar: Readable, opts: UnpackOptions = {}): Promise<UnpackedLayer> {
    const tmp = join(this.root, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    await mkdir(join(tmp, 'diff'), { recursive: true });
    try {
      const { diffId, size, tarSize } = await applyLayer(tar, join(tmp, 'diff'), {
        whiteouts: this.whiteouts, ...(opts.writer ? { writer: opts.writer } : {}),
        ...(this.opts.idMap ? { idMap: this.opts.idMap } : {}), ...(this.opts.maxLayerSize ? { maxBytes: this.opts.maxLayerSize } : {}),
      });
      const layer: UnpackedLayer & { tmp: string } = { diffId, size, tarSize, tmp, discard: () => rm(tmp, { recursive: true, force: true }) };
      return layer;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  async commit(parent: Digest | undefined, layer: UnpackedLayer): Promise<LayerInfo> {
    const tmp = (layer as UnpackedLayer & { tmp: string }).tmp;
    try {
      if (parent && !(await this.has(parent))) throw new NotFound('layer.not_found', `layer ${parent} does not exist`);
      const chainId = parent ? sha256Digest(`${parent} ${layer.diffId}`) : layer.diffId;
      if (await this.has(chainId)) {
        await layer.discard();
        return this.get(chainId);
      }
      const info: LayerInfo = { chainId, diffId: layer.diffId, size: layer.size, tarSize: layer.tarSize, ...(parent ? { parent } : {}) };
      await this.placeOnParent(parent, join(tmp, 'diff'));
      await writeJsonAtomic(join(tmp, 'layer.json'), info);
      try {
        await rename(tmp, this.dirOf(chainId));
      } catch (err) {
        // a concurrent apply of the same layer won the rename: its copy is identical
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        await layer.discard();
      }
      this.cache.set(chainId, info);
      return info;
    } catch (err) {
      await layer.discard();
      throw err;
    }
  }

  /**
   * Turns an unpacked layer into what `diffDir` holds, before it is
   * published. Overlay: nothing (the layer alone is a lower dir).
   */
  protected async placeOnParent(_parent: Digest | undefined, _diff: string): Promise<void> {}

  async has(chainId: Digest): Promise<boolean> {
    if (this.cache.has(chainId)) return true;
    const marker = join(this.dirOf(chainId), 'layer.json');
    try {
      await stat(marker);
      return true;
    } catch {
      return false;
    }
  }

  async get(chainId: Digest): Promise<LayerInfo> {
    const hit = this.cache.get(chainId);
    if (hit) return hit;
    const marker = join(this.dirOf(chainId), 'layer.json');
    try {
      const info = await readJson<LayerInfo>(marker);
      this.cache.set(chainId, info);
      return info;
    } catch {
      throw new NotFound('layer.not_found', `layer ${chainId} does not exist`);
    }
  }

  async list(): Promise<LayerInfo[]> {
    const out: LayerInfo[] = [];
    for (const name of await readdir(this.root)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      out.push(await this.get(`sha256:${name}`));
    }
    return out;
  }

  async lowerDirs(chainId: Digest): Promise<string[]> {
    const dirs: string[] = [];
    for (let id: Digest | undefined = chainId; id; id = (await this.get(id)).parent) dirs.push(this.diffDir(id));
    return dirs;
  }

  async remove(chainId: Digest): Promise<void> {
    this.cache.delete(chainId);
    const dir = this.dirOf(chainId);
    // rename first so a crash mid-delete leaves a temp dir for the start-up sweep, never half a layer
    const tmp = join(this.root, `${TEMP_PREFIX}rm-${randomBytes(8).toString('hex')}`);
    try {
      await rename(dir, tmp);
    } catch {
      return;
    }
    await rm(tmp, { recursive: true, force: true });
  }
}
