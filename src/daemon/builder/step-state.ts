/**
 * What every step works with: the stage's state so far, the build's
 * context, and the image records a step makes or reuses.
 */
import { join } from 'node:path';
import type { BuildRequest } from '../../api/types/index.js';
import type { ContainerDefaults, ImageConfig } from '../../oci/index.js';
import { chainIds } from '../../oci/index.js';
import type { Image } from '../images/image-store.js';
import type { LayerInfo } from '../layers/layer-store.js';
import type { BuilderDeps } from './builder.js';
import type { HeldFiles } from './held-files.js';
import type { ContentHashes } from './context.js';
import type { NamedContext } from './named-contexts.js';
import { StageRoot } from './stage-root.js';
import { matchCacheFrom } from './cache-from.js';
import { stageRef, type Stage } from './stages.js';

export interface StageState {
  image?: Image;
  config: ImageConfig;
  /** ARGs declared in this stage, with their values. */
  args: Map<string, string>;
  /** A CMD was given in this stage: a later ENTRYPOINT keeps it (moby's cmdSet). */
  cmdSet?: boolean;
  /** MAINTAINER of this stage: a built image's author comes from its own stage only. */
  maintainer?: string;
}

export interface StepContext {
  stage: Stage;
  stages: Stage[];
  /** An earlier stage's final state, once it is built: a step waits for the stage it reads only when it reads it. */
  stageState(index: number): Promise<StageState>;
  ctx: string;
  /** The whole context has arrived (it uploads while the first steps run): before reading `ctx`, `hashes` or `held`. */
  ready: Promise<void>;
  /** Content hashes of the context's files, from unpacking it. */
  hashes: ContentHashes;
  /** Context files whose bytes are still in memory: written before anything reads `ctx` itself. */
  held: HeldFiles;
  work: string;
  roots: StageRoot[];
  o: BuildRequest;
  say: (text: string) => void;
  escape: string;
  globalArgs: Map<string, string>;
  /** `--secret` values by id (berth build's X-Berth-Build-Secrets header). */
  secrets: Map<string, Buffer>;
  /** `--build-context` names (lower case): an image, or a directory sent with the context. */
  named: Map<string, NamedContext>;
  /** `--cache-from` images found here. */
  cacheFrom: Image[];
  /** Numbers the build's scratch directories. */
  counter: { n: number };
  /** Aborted when the client went away: a running step is killed. */
  signal?: AbortSignal;
}

export function cachedImage(d: BuilderDeps, s: StageState, key: string, o: BuildRequest): Image | undefined {
  if (o.noCache) return undefined;
  const hit = d.images.findCached(s.image?.id, key);
  if (hit) d.cacheUsage?.used(hit.id);
  return hit;
}

/**
 * The step's image without running it: a local step image made by the same
 * step from the same parent, else (--cache-from) a cache source's matching
 * history entry and layer, recorded as a new step image.
 */
export async function reuseStep(d: BuilderDeps, s: StageState, key: string, createdBy: string, config: ContainerDefaults,
  o: BuildRequest, cacheFrom: Image[]): Promise<StageState | undefined> {
  const hit = cachedImage(d, s, key, o);
  if (hit) return { ...s, image: hit, config: hit.config };
  if (o.noCache || cacheFrom.length === 0) return undefined;
  const m = matchCacheFrom(cacheFrom, s.config, createdBy);
  if (!m) return undefined;
  const layer = m.layerIndex !== undefined ? await d.layers.get(chainIds(m.source.config.rootfs.diff_ids)[m.layerIndex]!) : undefined;
  return newImage(d, s, config, createdBy, key, layer);
}

/** Records the step's image: the config with a history entry, and the new layer when there is one. */
export async function newImage(d: BuilderDeps, s: StageState, config: ContainerDefaults, createdBy: string, key: string, layer: LayerInfo | undefined): Promise<StageState> {
  const now = new Date().toISOString();
  const diffIds = [...s.config.rootfs.diff_ids, ...(layer ? [layer.diffId] : [])];
  const imageConfig: ImageConfig = {
    ...s.config,
    created: now,
    docker_version: d.engineVersion,
    config,
    history: [...(s.config.history ?? []), { created: now, created_by: createdBy, ...(layer ? {} : { empty_layer: true }) }],
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  delete imageConfig.container;
  delete imageConfig.container_config;
  delete imageConfig.comment; // dockerd's NewChildImage: a base's "Imported from -" is not the built image's
  if (s.maintainer) imageConfig.author = s.maintainer;
  else delete imageConfig.author;
  const chainId = chainIds(diffIds).at(-1);
  const image = await d.images.create(Buffer.from(JSON.stringify(imageConfig)), {
    size: (s.image?.size ?? 0) + (layer?.size ?? 0), cacheKey: key,
    ...(s.image ? { parent: s.image.id } : {}), ...(chainId ? { chainId } : {}),
  });
  d.cacheUsage?.used(image.id);
  return { ...s, image, config: image.config };
}

/** A stage's (by name or index) or an image's filesystem, mounted for the rest of the build. */
export async function fromRoot(d: BuilderDeps, from: string, c: StepContext): Promise<string> {
  const dep = stageRef(c.stages, from, c.stage.index);
  let image: Image | undefined;
  const named = dep === undefined ? c.named.get(from.toLowerCase()) : undefined;
  if (named?.kind === 'local') return named.dir;
  if (dep !== undefined) image = (await c.stageState(dep)).image;
  else {
    const ref = named?.ref ?? from;
    image = d.images.tryResolve(ref);
    if (!image) {
      await d.pull(ref, () => {});
      image = d.images.resolve(ref);
    }
  }
  const root = new StageRoot(d.layers, image?.chainId, join(c.work, `from-${c.roots.length}`));
  c.roots.push(root);
  return root.open();
}

/** What `path` is in the stage's image so far: 'dir', 'other' or undefined (absent). */
export async function imageKind(d: BuilderDeps, s: StageState, path: string): Promise<'dir' | 'other' | undefined> {
  const chain = chainIds(s.config.rootfs.diff_ids).at(-1);
  if (!chain) return undefined;
  return StageRoot.kindIn(await d.layers.lowerDirs(chain), path);
}
