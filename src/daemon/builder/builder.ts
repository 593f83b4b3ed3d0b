/**
 * Docker's classic builder behind `POST /build`: each instruction of the
 * needed stages makes an image whose parent is the previous step's, and a
 * step is skipped when an image made by the same step from the same parent
 * exists (its cache key: the resulting config, the RUN command and build
 * args, or the checksum of COPY/ADD sources). RUN runs in a container whose
 * changes become the layer; COPY/ADD write their layer directly from the
 * sources; the other instructions only change the config.
 *
 * A failing step leaves the steps before it as cache and no tagged image.
 */
import { lstat, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { BuildRequest, ContainerCreateRequest, JSONMessage, MountSpec } from '../../api/types/index.js';
import { BuildStepError, Forbidden, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { DockerIgnore } from '../../lib/dockerignore.js';
import { shortId } from '../../lib/ids.js';
import { resolveInRoot } from '../../lib/scoped-path.js';
import { chainIds, hostArchitecture, type ContainerDefaults, type Digest, type ImageConfig } from '../../oci/index.js';
import { familiarString, parseReference, withDefaultTag } from '../../oci/reference.js';
import type { ContentStore } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import type { Image, ImageStore } from '../images/image-store.js';
import type { LayerInfo, LayerStore } from '../layers/layer-store.js';
import { MediaType } from '../../oci/media-types.js';
import { heredocMarkers, parseDockerfile, type Instruction } from './dockerfile.js';
import { expandWord } from './expand.js';
import { parseChmod } from './chmod.js';
import { mountKey, parseRunMount, parseRunNetwork, type RunMount } from './run-mounts.js';
import { prepareMounts } from './run-mount-setup.js';
import { secretDigest } from './secret-key.js';
import { platformArgs } from './platform-args.js';
import { runCommand, secretRedactor, writePipes } from './run-command.js';
import { heredocSource, verifyChecksum } from './copy-flags.js';
import { applyMetadata, DEFAULT_SHELL, historyComment, substitutionEnv } from './metadata.js';
import { planStages, stageRef, type Stage } from './stages.js';
import { resolveSources, type Source } from './sources.js';
import { unpackContext, type ContentHashes } from './context.js';
import { copyChecksum, writeCopyLayer } from './copy-layer.js';
import { StageRoot } from './stage-root.js';
import { readRootfsFile } from '../containers/archive/rootfs-file.js';
import { parseGroup, parsePasswd } from '../containers/user.js';

export interface BuilderDeps {
  images: ImageStore;
  layers: LayerStore;
  content: ContentStore;
  layerBlobs: LayerBlobIndex;
  tmpRoot: string;
  /** Bytes of the unpacked build context (the daemon's max-layer-size). */
  maxContextSize?: number;
  engineVersion: string;
  /** RUN steps' containers. */
  containers: {
    create(req: ContainerCreateRequest): Promise<string>;
    /** Starts it with its output going to `output`; resolves with the exit code once the output ended. */
    run(id: string, output: (data: Buffer) => void): Promise<number>;
    remove(id: string): Promise<void>;
    /** The container's changes as a layer (diffID of the empty tar when it changed nothing); `stubs` are mount points to drop if left empty. */
    captureLayer(id: string, stubs?: string[]): Promise<LayerInfo>;
  };
  /** FROM of an image that is not here (or `--pull`). */
  pull(ref: string, progress: (m: JSONMessage) => void): Promise<void>;
  /** Where RUN --mount=type=cache directories live across builds. */
  cacheRoot: string;
  /** The per-daemon key secrets are hashed with for cache keys. */
  secretKey(): Promise<Buffer>;
  /** RUN --security=insecure is granted (daemon.json `allow-insecure-entitlement`). */
  allowInsecure?: boolean;
}

const EMPTY_TAR_DIGEST = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** Args every build knows without declaring them (Docker's predefined proxy args). */
const PREDEFINED_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

interface StageState {
  image?: Image;
  config: ImageConfig;
  /** ARGs declared in this stage, with their values. */
  args: Map<string, string>;
  /** A CMD was given in this stage: a later ENTRYPOINT keeps it (moby's cmdSet). */
  cmdSet?: boolean;
  /** MAINTAINER of this stage: a built image's author comes from its own stage only. */
  maintainer?: string;
}

export async function build(d: BuilderDeps, context: Readable, o: BuildRequest, emit: (m: JSONMessage) => void): Promise<Digest> {
  await mkdir(d.tmpRoot, { recursive: true });
  const work = await mkdtemp(join(d.tmpRoot, 'build-'));
  const say = (text: string) => { if (!o.quiet) emit({ stream: text }); };
  const roots: StageRoot[] = [];
  try {
    const ctx = join(work, 'context');
    await mkdir(ctx);
    const hashes = await unpackContext(context, ctx, d.maxContextSize);
    const df = parseDockerfile(await readDockerfile(ctx, o.dockerfile || 'Dockerfile'));
    if (df.checkDirective !== undefined) say(`Note: the "# check=${df.checkDirective}" directive is ignored: berth runs no build checks\n`);
    const plan = planStages(df, o.target);
    const total = plan.needed.reduce((n, i) => n + 1 + plan.stages[i]!.body.length, 0);
    // BuildKit's automatic platform ARGs are in the global scope; a stage sees them once it declares them
    const globalArgs = new Map<string, string>(platformArgs(o.buildArgs));
    const secrets = new Map(Object.entries(o.secrets ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    const counter = { n: 0 };
    for (const ins of plan.globalArgs) for (const [k, v] of argPairs(ins, o, globalArgs, df.escape)) globalArgs.set(k, v);
    const done = new Map<number, StageState>();
    let step = 0;
    let state: StageState | undefined;
    for (const index of plan.needed) {
      const stage = plan.stages[index]!;
      say(`Step ${++step}/${total} : ${stage.from.original}`);
      say('\n');
      state = await fromStep(d, stage, plan.stages, done, globalArgs, o, emit, df.escape);
      if (state.image) say(` ---> ${shortId(state.image.id)}\n`);
      const ctxOf = (): StepContext => ({ stage, stages: plan.stages, done, ctx, hashes, work, roots, o, say, escape: df.escape, globalArgs, secrets, counter });
      state = await runTriggers(d, state, ctxOf(), say);
      for (const ins of stage.body) {
        say(`Step ${++step}/${total} : ${ins.original}`);
        say('\n');
        state = await runStep(d, ins, state, ctxOf());
      }
      done.set(index, state);
    }
    let final = state!;
    if (Object.keys(o.labels).length) {
      const config = { ...(final.config.config ?? {}), Labels: { ...(final.config.config?.Labels ?? {}), ...o.labels } };
      final = await commitStep(d, final, config, `LABEL ${Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`, `labels:${JSON.stringify(o.labels)}`, o);
    }
    if (!final.image) throw new InvalidParameter('build.empty', 'No image was generated. Is your Dockerfile empty?');
    const id = final.image.id;
    emit({ aux: { ID: id } });
    // with -q the docker CLI prints (and writes --iidfile from) the stream's text: the id alone
    if (o.quiet) emit({ stream: `${id}\n` });
    say(`Successfully built ${shortId(id)}\n`);
    for (const t of o.tags) {
      const name = familiarString(withDefaultTag(parseReference(t)));
      await d.images.tag(id, name);
      say(`Successfully tagged ${name}\n`);
    }
    return id;
  } finally {
    for (const r of roots) await r.release();
    await rm(work, { recursive: true, force: true });
  }
}

/** The base image's ONBUILD instructions run first, as Docker runs them, and are not inherited further. */
async function runTriggers(d: BuilderDeps, s: StageState, c: StepContext, say: (t: string) => void): Promise<StageState> {
  const triggers = s.config.config?.OnBuild ?? [];
  if (triggers.length === 0) return s;
  say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
  let state = s;
  for (const text of triggers) {
    for (const ins of parseDockerfile(text).instructions) state = await runStep(d, ins, state, c);
  }
  const config = { ...(state.config.config ?? {}), OnBuild: null };
  return commitStep(d, state, config, 'ONBUILD (triggers run)', `onbuild-done:${JSON.stringify(triggers)}`, c.o, say);
}

async function readDockerfile(ctx: string, name: string): Promise<string> {
  try {
    return await readFile(await resolveInRoot(ctx, name), 'utf8');
  } catch {
    throw new NotFound('build.no_dockerfile', `Cannot locate specified Dockerfile: ${name}`);
  }
}

/** ARG name[=default]: the value is --build-arg's when given, else the default (expanded). */
function argPairs(ins: Instruction, o: BuildRequest, scope: Map<string, string>, escape: string): [string, string][] {
  const out: [string, string][] = [];
  for (const word of ins.rest.trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const given = o.buildArgs[name];
    if (given !== undefined && given !== null) out.push([name, given]);
    else if (eq >= 0) out.push([name, expandWord(word.slice(eq + 1), scope, escape)]);
    else if (scope.has(name)) out.push([name, scope.get(name)!]);
  }
  return out;
}

async function fromStep(d: BuilderDeps, stage: Stage, stages: Stage[], done: Map<number, StageState>, globalArgs: Map<string, string>,
  o: BuildRequest, emit: (m: JSONMessage) => void, escape: string): Promise<StageState> {
  const base = expandWord(stage.base, globalArgs, escape);
  const dep = stageRef(stages, base, stage.index);
  if (dep !== undefined) {
    const s = done.get(dep)!;
    return { ...s, args: new Map() };
  }
  if (base.toLowerCase() === 'scratch') {
    return { config: { architecture: hostArchitecture(), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, args: new Map() };
  }
  let image = d.images.tryResolve(base);
  if (!image || o.pull) {
    await d.pull(base, (m) => { if (!o.quiet) emit(m); });
    image = d.images.resolve(base);
  }
  return { image, config: image.config, args: new Map() };
}

interface StepContext {
  stage: Stage;
  stages: Stage[];
  done: Map<number, StageState>;
  ctx: string;
  /** Content hashes of the context's files, from unpacking it. */
  hashes: ContentHashes;
  work: string;
  roots: StageRoot[];
  o: BuildRequest;
  say: (text: string) => void;
  escape: string;
  globalArgs: Map<string, string>;
  /** `--secret` values by id (berth build's X-Berth-Build-Secrets header). */
  secrets: Map<string, Buffer>;
  /** Numbers the build's scratch directories. */
  counter: { n: number };
}

async function runStep(d: BuilderDeps, ins: Instruction, s: StageState, c: StepContext): Promise<StageState> {
  switch (ins.cmd) {
    case 'run':
      return runInstruction(d, ins, s, c);
    case 'copy':
    case 'add':
      return copyInstruction(d, ins, s, c);
    case 'arg': {
      const args = new Map(s.args);
      const scope = new Map([...c.globalArgs, ...args]);
      for (const [k, v] of argPairs(ins, c.o, scope, c.escape)) args.set(k, v);
      for (const word of ins.rest.trim().split(/\s+/)) {
        const name = word.split('=')[0]!;
        if (!args.has(name)) args.set(name, '');
      }
      const next = { ...s, args };
      const key = `arg:${ins.rest}:${JSON.stringify([...args])}`;
      return commitStep(d, next, s.config.config ?? {}, ins.original, key, c.o, c.say);
    }
    default: {
      const config = applyMetadata(ins, s.config.config ?? {}, s.args, c.escape, s.cmdSet);
      const next = ins.cmd === 'maintainer' ? { ...s, maintainer: ins.rest } : ins.cmd === 'cmd' ? { ...s, cmdSet: true } : s;
      const comment = historyComment(ins, config, s.config.config ?? {}, s.args, c.escape);
      return commitStep(d, next, config, comment, `meta:${ins.cmd}:${JSON.stringify(config)}`, c.o, c.say);
    }
  }
}

/** A config-only step: a new image on the same layers (or the cached one). */
async function commitStep(d: BuilderDeps, s: StageState, config: ContainerDefaults, text: string, key: string, o: BuildRequest,
  say: (t: string) => void = () => {}): Promise<StageState> {
  const cached = cachedImage(d, s, key, o);
  if (cached) {
    say(' ---> Using cache\n');
    say(` ---> ${shortId(cached.id)}\n`);
    return { ...s, image: cached, config: cached.config };
  }
  const next = await newImage(d, s, config, `/bin/sh -c #(nop)  ${text}`, key, undefined);
  say(` ---> ${shortId(next.image!.id)}\n`);
  return next;
}

function cachedImage(d: BuilderDeps, s: StageState, key: string, o: BuildRequest): Image | undefined {
  if (o.noCache) return undefined;
  return d.images.findCached(s.image?.id, key);
}

/** Records the step's image: the config with a history entry, and the new layer when there is one. */
async function newImage(d: BuilderDeps, s: StageState, config: ContainerDefaults, createdBy: string, key: string, layer: LayerInfo | undefined): Promise<StageState> {
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
  return { ...s, image, config: image.config };
}

async function runInstruction(d: BuilderDeps, ins: Instruction, s: StageState, c: StepContext): Promise<StageState> {
  if (!s.image) throw new InvalidParameter('build.run_on_scratch', 'RUN needs a base image: the stage starts FROM scratch and has no layers yet');
  const defaults = s.config.config ?? {};
  const env = substitutionEnv(defaults, s.args);
  const mounts = (ins.flagList.mount ?? []).map((spec) => parseRunMount(expandWord(spec, env, c.escape)));
  const network = parseRunNetwork(ins.flags.network);
  const security = ins.flags.security ?? 'sandbox';
  if (security !== 'sandbox' && security !== 'insecure') throw new InvalidParameter('build.bad_security', `unsupported security mode "${security}"`);
  if (security === 'insecure' && !d.allowInsecure) {
    throw new Forbidden('build.insecure_not_allowed', 'RUN --security=insecure is not allowed: start berthd with "allow-insecure-entitlement": true in daemon.json to grant it');
  }
  const { cmd, pipes } = runCommand(ins, defaults.Shell ?? DEFAULT_SHELL);
  const argEnv = [...s.args].filter(([k]) => !(defaults.Env ?? []).some((e) => e.startsWith(`${k}=`))).map(([k, v]) => `${k}=${v}`);
  const predefined = PREDEFINED_ARGS.filter((k) => typeof c.o.buildArgs[k] === 'string').map((k) => `${k}=${c.o.buildArgs[k]}`);
  // secrets enter the key only as a keyed hash of their value: a new value misses, the plaintext is never stored
  const secretKeys = mounts.some((m) => m.type === 'secret') ? await d.secretKey() : undefined;
  const mountKeys: string[] = [];
  for (const m of mounts) {
    if (m.type === 'secret') mountKeys.push(`${mountKey(m)}:${secretDigest(secretKeys!, m.id, c.secrets.get(m.id))}`);
    else if (m.type === 'bind') mountKeys.push(`${mountKey(m)}:${await bindSourceKey(d, m, c)}`);
    else mountKeys.push(mountKey(m));
  }
  const extras = mounts.length || network !== 'default' || security !== 'sandbox' || pipes.length
    ? `:${JSON.stringify({ mounts: mountKeys, network, security, pipes })}` : '';
  const key = `run:${JSON.stringify(cmd)}:${JSON.stringify(argEnv)}${extras}`;
  const cached = cachedImage(d, s, key, c.o);
  if (cached) {
    c.say(' ---> Using cache\n');
    c.say(` ---> ${shortId(cached.id)}\n`);
    return { ...s, image: cached, config: cached.config };
  }
  const stepDir = join(c.work, `run-${++c.counter.n}`);
  const prepared = await prepareMounts(mounts, {
    cacheRoot: d.cacheRoot, stepDir, secrets: c.secrets,
    rootOf: (from) => (from === undefined ? Promise.resolve(c.ctx) : fromRoot(d, from, c)),
  });
  let id: string;
  let stubs: string[];
  try {
    stubs = await mountStubs(d, s, prepared.mounts);
    const pipeMounts = await writePipes(pipes, stepDir);
    id = await d.containers.create({
      Image: s.image.id, Cmd: cmd, Entrypoint: [''], Env: [...(defaults.Env ?? []), ...argEnv, ...predefined, ...prepared.env],
      WorkingDir: defaults.WorkingDir ?? '', User: defaults.User ?? '', AttachStdout: true, AttachStderr: true, Tty: false,
      HostConfig: {
        NetworkMode: network === 'default' ? c.o.networkMode || 'default' : network,
        Mounts: [...prepared.mounts, ...pipeMounts],
        ...(security === 'insecure' ? { Privileged: true } : {}),
      },
    });
  } catch (err) {
    prepared.release();
    throw err;
  }
  c.say(` ---> Running in ${shortId(id)}\n`);
  // a failed step's container is kept for debugging, unless it holds a secret in its env (inspect would show it)
  let removeAfter = c.o.forceRm || prepared.env.length > 0;
  const redact = secretRedactor(c.secrets, mounts);
  try {
    const code = await d.containers.run(id, (data) => c.say(redact(data.toString('utf8'))));
    if (code !== 0) {
      throw new BuildStepError(`The command '${(ins.json ? ins.json : cmd).join(' ')}' returned a non-zero code: ${code}`, code);
    }
    removeAfter = c.o.rm || removeAfter;
    const layer = await d.containers.captureLayer(id, stubs);
    const createdBy = argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ${cmd.join(' ')}` : cmd.join(' ');
    const next = await newImage(d, s, defaults, createdBy, key, layer.diffId === EMPTY_TAR_DIGEST ? undefined : layer);
    if (removeAfter) c.say(`Removing intermediate container ${shortId(id)}\n`);
    c.say(` ---> ${shortId(next.image!.id)}\n`);
    return next;
  } finally {
    prepared.release();
    if (removeAfter) await d.containers.remove(id).catch(() => {});
  }
}

/**
 * What a bind mount shows the step, for its cache key: a stage's or an
 * image's id, or the checksum of the context files under the source (as
 * COPY's), so an edited file runs the step again.
 */
async function bindSourceKey(d: BuilderDeps, m: Extract<RunMount, { type: 'bind' }>, c: StepContext): Promise<string> {
  if (m.from !== undefined) {
    const dep = stageRef(c.stages, m.from, c.stage.index);
    return `from:${dep !== undefined ? c.done.get(dep)?.image?.id ?? 'scratch' : d.images.tryResolve(m.from)?.id ?? m.from}`;
  }
  const abs = await resolveInRoot(c.ctx, m.source || '/');
  const st = await lstat(abs).catch(() => {
    throw new NotFound('build.mount_source', `failed to compute cache key: "${m.source}" not found`);
  });
  return copyChecksum({ sources: [{ rel: m.source, abs, isDir: st.isDirectory() }], dest: '/', destIsDir: true, missingDirs: [], extractArchives: false }, c.hashes);
}

/** Mount targets (and their parents) the image lacks: the runtime creates them, and empty they are no change of the step's. */
async function mountStubs(d: BuilderDeps, s: StageState, mounts: MountSpec[]): Promise<string[]> {
  const out = new Set<string>();
  for (const m of mounts) {
    for (let p = posix.normalize(m.Target); p !== '/' && !(await imageKind(d, s, p)); p = posix.dirname(p)) out.add(p);
  }
  // deepest first, so a parent is looked at once its stub child is gone
  return [...out].sort((a, b) => b.split('/').length - a.split('/').length);
}

async function copyInstruction(d: BuilderDeps, ins: Instruction, s: StageState, c: StepContext): Promise<StageState> {
  const verb = ins.cmd.toUpperCase();
  const env = substitutionEnv(s.config.config ?? {}, s.args);
  const words = ins.json ?? splitArgs(ins.rest);
  if (words.length < 2) throw new InvalidParameter('build.copy_args', `${verb} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  const heredocWords = new Map((ins.heredocs ?? []).map((h, i) => [heredocMarkers(ins.rest)[i]!.word, h]));
  const expanded = words.map((w) => (heredocWords.has(w) ? w : ins.json ? expandWord(JSON.stringify(w).slice(1, -1), env, c.escape) : expandWord(w, env, c.escape)));
  const rawDest = expanded.at(-1)!;
  const patterns = expanded.slice(0, -1);
  if (patterns.some((p) => /^https?:\/\//.test(p) || /^git@/.test(p))) {
    if (ins.cmd === 'copy') throw new InvalidParameter('build.copy_url', 'COPY failed: source can\'t be a URL for COPY');
    throw new InvalidParameter('build.add_url', 'ADD from a URL or git repository is not supported by berth: its builder has no network to fetch sources; download them into the build context');
  }
  const root = await sourceRoot(d, ins, c);
  const sources: Source[] = [];
  const pivots = new Map<Source, string>();
  for (const p of patterns) {
    const doc = heredocWords.get(p);
    if (doc) {
      sources.push(await heredocSource(doc, env, join(c.work, `heredoc-${++c.counter.n}`)));
      continue;
    }
    const found = await resolveSources(root, p, verb);
    // --parents keeps each source's path, from the root or from a `/./` pivot in the pattern
    const pivot = p.includes('/./') ? posix.normalize(`/${p.slice(0, p.indexOf('/./'))}`).slice(1) : '';
    for (const src of found) pivots.set(src, pivot);
    sources.push(...found);
  }
  const excludes = ins.flagList.exclude?.map((e) => expandWord(e, env, c.escape));
  const ignore = excludes?.length ? new DockerIgnore(excludes.join('\n')) : undefined;
  const kept = ignore ? sources.filter((src) => !ignore.excludes(src.rel) && !ignore.excludes(posix.basename(src.rel))) : sources;
  if (kept.length === 0) throw new NotFound('build.source_not_found', `${verb} failed: no source files were specified (all excluded by --exclude)`);
  const parents = ins.flags.parents !== undefined && ins.flags.parents !== 'false';
  const workdir = s.config.config?.WorkingDir || '/';
  const dest = posix.resolve(workdir, rawDest);
  const destKind = await imageKind(d, s, dest);
  const destIsDir = parents || rawDest.endsWith('/') || kept.length > 1 || destKind === 'dir' || rawDest === '.';
  if (kept.length > 1 && !rawDest.endsWith('/') && destKind !== 'dir') {
    throw new InvalidParameter('build.copy_dest', `When using ${verb} with more than one source file, the destination must be a directory and end with a /`);
  }
  const parentsOf = parents ? (src: Source) => {
    const pivot = pivots.get(src) ?? '';
    return pivot && src.rel.startsWith(`${pivot}/`) ? src.rel.slice(pivot.length + 1) : src.rel;
  } : undefined;
  const missingDirs: string[] = [];
  const dirOf = kept.length === 1 && !kept[0]!.isDir && !destIsDir ? posix.dirname(dest) : dest;
  const wanted = new Set<string>();
  for (let p = dirOf; p !== '/'; p = posix.dirname(p)) wanted.add(p);
  if (parentsOf) {
    for (const src of kept) {
      const below = src.isDir ? parentsOf(src) : posix.dirname(parentsOf(src));
      for (let p = posix.join(dest, below); p !== dest && p !== '/'; p = posix.dirname(p)) wanted.add(p);
    }
  }
  for (const p of [...wanted].sort()) if (!(await imageKind(d, s, p))) missingDirs.push(p);
  const owner = ins.flags.chown ? await parseOwner(expandWord(ins.flags.chown, env, c.escape), () => stageAccounts(d, s, c)) : undefined;
  const modeChange = ins.flags.chmod ? parseChmod(ins.flags.chmod) : undefined;
  if (ins.flags.checksum !== undefined) await verifyChecksum(ins.flags.checksum, kept);
  const copy = {
    sources: kept, dest, destIsDir, missingDirs, extractArchives: ins.cmd === 'add',
    ...(owner ? { owner } : {}), ...(modeChange ? { chmod: modeChange } : {}),
    ...(ignore ? { exclude: (rel: string) => rel !== '' && ignore.excludes(rel) } : {}),
    ...(parentsOf ? { parentsOf } : {}),
  };
  const checksum = await copyChecksum(copy, c.hashes);
  const key = `${ins.cmd}:${checksum}:${dest}`;
  const cached = cachedImage(d, s, key, c.o);
  if (cached) {
    c.say(' ---> Using cache\n');
    c.say(` ---> ${shortId(cached.id)}\n`);
    return { ...s, image: cached, config: cached.config };
  }
  const { blob } = await writeCopyLayer(copy, d.content);
  const parentChain = chainIds(s.config.rootfs.diff_ids).at(-1);
  const layer = await d.layers.apply(parentChain, d.content.read(blob.digest));
  await d.layerBlobs.record(layer.diffId, blob.size, { mediaType: MediaType.OciLayer, digest: blob.digest, size: blob.size });
  const what = kept.length === 1 && !kept[0]!.isDir ? 'file' : kept.length === 1 ? 'dir' : 'multi';
  // moby writes the chown flag glued to the source hash: `COPY --chown=1:1file:… in /x `
  const chownComment = ins.flags.chown ? `--chown=${ins.flags.chown}` : '';
  const next = await newImage(d, s, s.config.config ?? {}, `/bin/sh -c #(nop) ${verb} ${chownComment}${what}:${checksum} in ${rawDest} `, key, layer);
  c.say(` ---> ${shortId(next.image!.id)}\n`);
  return next;
}

/** COPY --from: a stage's or an image's filesystem; otherwise the build context. */
async function sourceRoot(d: BuilderDeps, ins: Instruction, c: StepContext): Promise<string> {
  return ins.flags.from === undefined ? c.ctx : fromRoot(d, ins.flags.from, c);
}

/** A stage's (by name or index) or an image's filesystem, mounted for the rest of the build. */
async function fromRoot(d: BuilderDeps, from: string, c: StepContext): Promise<string> {
  const dep = stageRef(c.stages, from, c.stage.index);
  let image: Image | undefined;
  if (dep !== undefined) image = c.done.get(dep)?.image;
  else {
    image = d.images.tryResolve(from);
    if (!image) {
      await d.pull(from, () => {});
      image = d.images.resolve(from);
    }
  }
  const root = new StageRoot(d.layers, image?.chainId, join(c.work, `from-${c.roots.length}`));
  c.roots.push(root);
  return root.open();
}

/** What `path` is in the stage's image so far: 'dir', 'other' or undefined (absent). */
async function imageKind(d: BuilderDeps, s: StageState, path: string): Promise<'dir' | 'other' | undefined> {
  const chain = chainIds(s.config.rootfs.diff_ids).at(-1);
  if (!chain) return undefined;
  return StageRoot.kindIn(await d.layers.lowerDirs(chain), path);
}

function splitArgs(rest: string): string[] {
  return rest.trim().split(/\s+/).filter(Boolean);
}

/** The stage's own /etc/passwd and /etc/group, for --chown by name (read through the one safe helper). */
async function stageAccounts(d: BuilderDeps, s: StageState, c: StepContext): Promise<{ passwd?: string; group?: string }> {
  const root = new StageRoot(d.layers, chainIds(s.config.rootfs.diff_ids).at(-1), join(c.work, `accounts-${c.roots.length}`));
  c.roots.push(root);
  const dir = await root.open();
  const [passwd, group] = await Promise.all([readRootfsFile(dir, '/etc/passwd'), readRootfsFile(dir, '/etc/group')]);
  return { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) };
}

/**
 * `--chown=user[:group]` as moby's parseChownFlag: numbers as they are,
 * names looked up in the destination stage's /etc/passwd and /etc/group;
 * a lone user is the group's name too.
 */
async function parseOwner(spec: string, accounts: () => Promise<{ passwd?: string; group?: string }>): Promise<{ uid: number; gid: number }> {
  const parts = spec.split(':');
  if (parts.length > 2 || parts[0] === '') throw new InvalidParameter('build.chown', `invalid chown string format: ${spec}`);
  const [userStr, groupStr] = [parts[0]!, parts[1] ?? parts[0]!];
  const numeric = (v: string) => /^\d+$/.test(v);
  const files = numeric(userStr) && numeric(groupStr) ? {} : await accounts();
  const uid = numeric(userStr) ? Number(userStr) : parsePasswd(files.passwd).find((u) => u.name === userStr)?.uid;
  if (uid === undefined) throw new InvalidParameter('build.chown', `unable to convert uid/gid chown string to host mapping: can't find uid for user ${userStr}: no such user: ${userStr}`);
  const gid = numeric(groupStr) ? Number(groupStr) : parseGroup(files.group).find((g) => g.name === groupStr)?.gid;
  if (gid === undefined) throw new InvalidParameter('build.chown', `unable to convert uid/gid chown string to host mapping: can't find gid for group ${groupStr}: no such group: ${groupStr}`);
  return { uid, gid };
}

