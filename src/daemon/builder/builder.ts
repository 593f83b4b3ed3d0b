/**
 * Docker's classic builder behind `POST /build`: each instruction of the
 * needed stages makes an image whose parent is the previous step's, and a
 * step is skipped when an image made by the same step from the same parent
 * exists (its cache key: the resulting config, the RUN command and build
 * args, or the checksum of COPY/ADD sources). RUN runs in a container whose
 * changes become the layer; COPY/ADD write their layer directly from the
 * sources; the other instructions only change the config.
 *
 * Stages that do not read each other build concurrently (each waits only
 * for the stages its FROM, COPY --from and RUN --mount=from= name); their
 * output is kept in sequential order by OrderedOutput.
 *
 * A failing step leaves the steps before it as cache and no tagged image.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { BuildRequest, JSONMessage } from '../../api/types/index.js';
import { InvalidParameter, NotFound, NotImplemented } from '../../errdefs/index.js';
import { DockerIgnore } from '../../lib/dockerignore.js';
import { shortId } from '../../lib/ids.js';
import { span } from '../../lib/spans.js';
import { readAll } from '../../lib/streams.js';
import { resolveInRoot } from '../../lib/scoped-path.js';
import { chainIds, hostArchitecture, type ContainerDefaults, type Digest } from '../../oci/index.js';
import { familiarString, parseReference, withDefaultTag } from '../../oci/reference.js';
import type { ContentStore } from '../content/content-store.js';
import type { LayerBlobIndex } from '../content/layer-blobs.js';
import type { Image, ImageStore } from '../images/image-store.js';
import type { LayerStore } from '../layers/layer-store.js';
import type { StepContainers } from './step-container.js';
import { directoryTar } from '../layers/upper-dir.js';
import { MediaType } from '../../oci/media-types.js';
import { heredocMarkers, parseDockerfile, type Instruction } from './dockerfile.js';
import { expandWord } from './expand.js';
import { parseChmod } from './chmod.js';
import { platformArgs } from './platform-args.js';
import { heredocSource, verifyChecksum } from './copy-flags.js';
import { applyMetadata, historyComment, substitutionEnv } from './metadata.js';
import { planStages, stageRef, type Stage } from './stages.js';
import { OrderedOutput } from './ordered-output.js';
import type { CacheUsage } from './cache-usage.js';
import { namedContexts, type NamedContext } from './named-contexts.js';
import { resolveSources, type Source } from './sources.js';
import { emptyContext, unpackContext } from './context.js';
import type { ContextStore } from './context-store.js';
import type { HeldFiles } from './held-files.js';
import { copyChecksum, storeCopyLayer } from './copy-layer.js';
import { StageRoot } from './stage-root.js';
import { runInstruction } from './run-step.js';
import { cancelled } from '../runtime/runc-run.js';
import { reuseStep, fromRoot, imageKind, newImage, type StageState, type StepContext } from './step-state.js';
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
  /** RUN steps' containers (builder-owned `runc run`, step-container.ts). */
  steps: Pick<StepContainers, 'run'>;
  /** FROM of an image that is not here (or `--pull`). */
  pull(ref: string, progress: (m: JSONMessage) => void): Promise<void>;
  /** Where RUN --mount=type=cache directories live across builds. */
  cacheRoot: string;
  /** The per-daemon key secrets are hashed with for cache keys. */
  secretKey(): Promise<Buffer>;
  /** RUN --security=insecure is granted (daemon.json `allow-insecure-entitlement`). */
  allowInsecure?: boolean;
  /** Records when step images and cache mounts are used (system df, builder prune). */
  cacheUsage?: CacheUsage;
  /** Context files kept between `berth build`s (the incremental upload). */
  contextStore?: ContextStore;
  /**
   * Runs the end of a build the answer need not wait for (its work directory's removal); the
   * daemon waits for it at shutdown and before build cache figures are read. Without it the
   * build waits for that work itself.
   */
  afterAnswer?(task: () => Promise<void>): void;
}

/**
 * `exportFiles`: `-o type=local|tar`: the target stage's files go to it as a
 * tar stream instead of tags (the step images stay, as cache).
 */
export async function build(d: BuilderDeps, context: Readable, o: BuildRequest, emit: (m: JSONMessage) => void,
  exportFiles?: (tar: Readable) => Promise<void>, signal?: AbortSignal): Promise<Digest> {
  await mkdir(d.tmpRoot, { recursive: true });
  const work = await mkdtemp(join(d.tmpRoot, 'build-'));
  const ctx = join(work, 'context');
  await mkdir(ctx);
  /*
   * Steps start once the Dockerfile has arrived, while the rest of the
   * context still uploads: a RUN before the first COPY overlaps the
   * transfer. Whatever reads the context waits for all of it (`ready`).
   * Output is held until then, so a bad archive is still a plain 400.
   */
  const into = emptyContext();
  const { hashes, held } = into;
  const dockerfileName = posix.normalize(`/${o.dockerfile || 'Dockerfile'}`).slice(1);
  let dockerfileArrived = () => {};
  const dockerfileHere = new Promise<void>((resolve) => { dockerfileArrived = resolve; });
  const unpacking = span('build: receive context', () => unpackContext(context, ctx, d.maxContextSize, into, (name) => {
    if (name === dockerfileName) dockerfileArrived();
  }, d.contextStore, o.incrementalContext === true)).then((r) => {
    // what the upload carried, for GET /debug/spans (the context's tests read them)
    span(`build: context received ${r.received.bytes} bytes, ${r.received.stored} files from the store`, () => undefined);
    span(`build: context files unchanged since the last upload: ${r.received.unchanged}`, () => undefined);
    return r;
  });
  const ready = unpacking.then(() => {});
  ready.catch(() => {}); // awaited before the build ends
  let heldOutput: JSONMessage[] | undefined = [];
  const sendAfterUpload = (m: JSONMessage) => { if (heldOutput) heldOutput.push(m); else emit(m); };
  void ready.then(() => {
    for (const m of heldOutput ?? []) emit(m);
    heldOutput = undefined;
  }, () => {});
  const say = (text: string) => { if (!o.quiet) sendAfterUpload({ stream: text }); };
  const roots: StageRoot[] = [];
  try {
    await Promise.race([dockerfileHere, ready]);
    // local named contexts are moved out of the context directory: with their bytes
    if (Object.values(o.buildContexts ?? {}).includes('local')) {
      await ready;
      await held.write();
    }
    const named = await namedContexts(o.buildContexts, ctx, work);
    // moby skips a --cache-from image it cannot find, with a note
    const cacheFrom: Image[] = [];
    for (const ref of o.cacheFrom ?? []) {
      const img = d.images.tryResolve(ref);
      if (img) cacheFrom.push(img);
      else say(`Note: --cache-from image ${ref} not found: not used\n`);
    }
    const df = parseDockerfile(await readDockerfile(ctx, o.dockerfile || 'Dockerfile', held));
    if (df.checkDirective !== undefined) say(`Note: the "# check=${df.checkDirective}" directive is ignored: berth runs no build checks\n`);
    const plan = planStages(df, o.target);
    const total = plan.needed.reduce((n, i) => n + 1 + plan.stages[i]!.body.length, 0);
    // BuildKit's automatic platform ARGs are in the global scope; a stage sees them once it declares them
    const globalArgs = new Map<string, string>(platformArgs(o.buildArgs));
    const secrets = new Map(Object.entries(o.secrets ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    const counter = { n: 0 };
    for (const ins of plan.globalArgs) for (const [k, v] of argPairs(ins, o, globalArgs, df.escape)) globalArgs.set(k, v);
    const done = new Map<number, StageState>();
    // Step numbers as a sequential build would give them, whatever order the stages finish in
    const firstStep = new Map<number, number>();
    let steps = 0;
    for (const i of plan.needed) { firstStep.set(i, steps); steps += 1 + plan.stages[i]!.body.length; }
    const out = new OrderedOutput(plan.needed, sendAfterUpload);
    const started = new Map<number, Promise<StageState>>();
    let failure: { error: unknown } | undefined;
    ready.catch((error: unknown) => { failure ??= { error }; });
    const buildStage = async (index: number): Promise<StageState> => {
      const stage = plan.stages[index]!;
      const emitStage = out.writer(index);
      const sayStage = (text: string) => { if (!o.quiet) emitStage({ stream: text }); };
      // a stage stops at its next step once another has failed: the build fails with the first error
      // and once the client went away: nothing more is started for it
      const check = () => {
        if (failure) throw failure.error;
        if (signal?.aborted) throw cancelled();
      };
      let step = firstStep.get(index)!;
      try {
        check();
        sayStage(`Step ${++step}/${total} : ${stage.from.original}`);
        sayStage('\n');
        let state = await fromStep(d, stage, plan.stages, startStage, globalArgs, o, emitStage, df.escape, named);
        if (state.image) sayStage(` ---> ${shortId(state.image.id)}\n`);
        const c: StepContext = { stage, stages: plan.stages, stageState: startStage, ctx, ready, hashes, held, work, roots, o, say: sayStage, escape: df.escape, globalArgs, secrets, named, cacheFrom, counter, ...(signal ? { signal } : {}) };
        state = await runTriggers(d, state, c, sayStage);
        for (const ins of stage.body) {
          check();
          sayStage(`Step ${++step}/${total} : ${ins.original}`);
          sayStage('\n');
          state = await span(`build: ${ins.cmd}`, () => runStep(d, ins, state, c));
        }
        done.set(index, state);
        return state;
      } catch (error) {
        failure ??= { error };
        throw error;
      } finally {
        out.finish(index);
      }
    };
    const startStage = (index: number): Promise<StageState> => {
      let p = started.get(index);
      if (!p) started.set(index, p = buildStage(index));
      return p;
    };
    const target = plan.needed.at(-1)!;
    // every needed stage starts now; each waits only for the stages it reads
    for (const i of plan.needed) startStage(i).catch(() => {});
    await Promise.allSettled(started.values());
    out.flushAll();
    await ready; // a broken upload is the build's error, before its output goes out
    if (failure) throw failure.error;
    const state = done.get(target);
    let final = state!;
    if (Object.keys(o.labels).length) {
      const config = { ...(final.config.config ?? {}), Labels: { ...(final.config.config?.Labels ?? {}), ...o.labels } };
      final = await commitStep(d, final, config, `LABEL ${Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`, `labels:${JSON.stringify(o.labels)}`, o);
    }
    if (!final.image) throw new InvalidParameter('build.empty', 'No image was generated. Is your Dockerfile empty?');
    const id = final.image.id;
    sendAfterUpload({ aux: { ID: id } });
    // with -q the docker CLI prints (and writes --iidfile from) the stream's text: the id alone
    if (o.quiet) sendAfterUpload({ stream: `${id}\n` });
    if (exportFiles) {
      const root = new StageRoot(d.layers, final.image.chainId, join(work, 'export'));
      roots.push(root);
      await exportFiles(await directoryTar(await root.open()));
      return id;
    }
    say(`Successfully built ${shortId(id)}\n`);
    for (const t of o.tags) {
      const name = familiarString(withDefaultTag(parseReference(t)));
      await span('build: tag', () => d.images.tag(id, name));
      say(`Successfully tagged ${name}\n`);
    }
    return id;
  } finally {
    const cleanUp = async () => {
      await unpacking.catch(() => {}); // nothing may still write into `work` when it goes
      held.release();
      await span('build: clean up', () => Promise.all([
        d.cacheUsage?.save().catch(() => {}), // only figures for df and prune: a failed write loses no build
        (async () => {
          for (const r of roots) await r.release();
          await rm(work, { recursive: true, force: true });
        })(),
      ]));
    };
    if (d.afterAnswer) d.afterAnswer(cleanUp);
    else await cleanUp();
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

async function readDockerfile(ctx: string, name: string, held: HeldFiles): Promise<string> {
  try {
    const path = await resolveInRoot(ctx, name);
    // still in memory: read from there, nothing written (a fully cached build writes no file)
    const body = held.body(path);
    return body ? (await readAll(body)).toString('utf8') : await readFile(path, 'utf8');
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

async function fromStep(d: BuilderDeps, stage: Stage, stages: Stage[], stageState: (index: number) => Promise<StageState>, globalArgs: Map<string, string>,
  o: BuildRequest, emit: (m: JSONMessage) => void, escape: string, named: Map<string, NamedContext>): Promise<StageState> {
  let base = expandWord(stage.base, globalArgs, escape);
  const dep = stageRef(stages, base, stage.index);
  if (dep !== undefined) return { ...(await stageState(dep)), args: new Map() };
  // a --build-context of that name stands in for the image (stage names come first)
  const ctxNamed = named.get(base.toLowerCase());
  if (ctxNamed?.kind === 'local') throw new NotImplemented('build.context_source', `FROM ${base}: a directory build context can be used by COPY --from and RUN --mount from=, not as a base image, in berth`);
  if (ctxNamed) base = ctxNamed.ref;
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
      return commitStep(d, next, s.config.config ?? {}, ins.original, key, c.o, c.say, c.cacheFrom);
    }
    default: {
      const config = applyMetadata(ins, s.config.config ?? {}, s.args, c.escape, s.cmdSet);
      const next = ins.cmd === 'maintainer' ? { ...s, maintainer: ins.rest } : ins.cmd === 'cmd' ? { ...s, cmdSet: true } : s;
      const comment = historyComment(ins, config, s.config.config ?? {}, s.args, c.escape);
      return commitStep(d, next, config, comment, `meta:${ins.cmd}:${JSON.stringify(config)}`, c.o, c.say, c.cacheFrom);
    }
  }
}

/** A config-only step: a new image on the same layers (or the cached one). */
async function commitStep(d: BuilderDeps, s: StageState, config: ContainerDefaults, text: string, key: string, o: BuildRequest,
  say: (t: string) => void = () => {}, cacheFrom: Image[] = []): Promise<StageState> {
  const reused = await reuseStep(d, s, key, `/bin/sh -c #(nop)  ${text}`, config, o, cacheFrom);
  if (reused) {
    say(' ---> Using cache\n');
    say(` ---> ${shortId(reused.image!.id)}\n`);
    return reused;
  }
  const next = await newImage(d, s, config, `/bin/sh -c #(nop)  ${text}`, key, undefined);
  say(` ---> ${shortId(next.image!.id)}\n`);
  return next;
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
  const fromContext = ins.flags.from === undefined;
  if (fromContext) await c.ready;
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
  // ADD looks into its sources (archives) and --checksum reads them: from the disk
  if (fromContext && (ins.cmd === 'add' || ins.flags.checksum !== undefined)) for (const src of kept) await c.held.write(src.abs);
  if (ins.flags.checksum !== undefined) await verifyChecksum(ins.flags.checksum, kept);
  const copy = {
    sources: kept, dest, destIsDir, missingDirs, extractArchives: ins.cmd === 'add',
    ...(fromContext ? { heldBody: (path: string) => c.held.body(path) } : {}),
    ...(owner ? { owner } : {}), ...(modeChange ? { chmod: modeChange } : {}),
    ...(ignore ? { exclude: (rel: string) => rel !== '' && ignore.excludes(rel) } : {}),
    ...(parentsOf ? { parentsOf } : {}),
  };
  const checksum = await copyChecksum(copy, c.hashes);
  const key = `${ins.cmd}:${checksum}:${dest}`;
  const what = kept.length === 1 && !kept[0]!.isDir ? 'file' : kept.length === 1 ? 'dir' : 'multi';
  // moby writes the chown flag glued to the source hash: `COPY --chown=1:1file:… in /x `
  const chownComment = ins.flags.chown ? `--chown=${ins.flags.chown}` : '';
  const createdBy = `/bin/sh -c #(nop) ${verb} ${chownComment}${what}:${checksum} in ${rawDest} `;
  const reused = await reuseStep(d, s, key, createdBy, s.config.config ?? {}, c.o, c.cacheFrom);
  if (reused) {
    c.say(' ---> Using cache\n');
    c.say(` ---> ${shortId(reused.image!.id)}\n`);
    return reused;
  }
  const parentChain = chainIds(s.config.rootfs.diff_ids).at(-1);
  const { blob, layer } = await span('copy: store and apply layer', () => storeCopyLayer(copy, d.content, (tar) => d.layers.apply(parentChain, tar)));
  await d.layerBlobs.record(layer.diffId, blob.size, { mediaType: MediaType.OciLayer, digest: blob.digest, size: blob.size });
  const next = await newImage(d, s, s.config.config ?? {}, createdBy, key, layer);
  c.say(` ---> ${shortId(next.image!.id)}\n`);
  return next;
}

/** COPY --from: a stage's or an image's filesystem; otherwise the build context. */
async function sourceRoot(d: BuilderDeps, ins: Instruction, c: StepContext): Promise<string> {
  return ins.flags.from === undefined ? c.ctx : fromRoot(d, ins.flags.from, c);
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

