/**
 * A RUN step: its mounts, network and security mode, the command (with
 * heredocs) run in a container whose changes become the layer, and the
 * cache key that covers all of them.
 */
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { ContainerCreateRequest, MountSpec } from '../../api/types/index.js';
import { startFailureKind } from '../../api/start-errors.js';
import { BuildStepError, Forbidden, InvalidParameter, NotFound, SystemError } from '../../errdefs/index.js';
import { RuntimeStartError } from '../runtime/runtime.js';
import type { StepRun } from './step-container.js';
import { shortId } from '../../lib/ids.js';
import { resolveInRoot } from '../../lib/scoped-path.js';
import type { BuilderDeps } from './builder.js';
import type { Instruction } from './dockerfile.js';
import { expandWord } from './expand.js';
import { DEFAULT_SHELL, substitutionEnv } from './metadata.js';
import { mountKey, parseRunMount, parseRunNetwork, type RunMount } from './run-mounts.js';
import { cacheDirName, prepareMounts } from './run-mount-setup.js';
import { secretDigest } from './secret-key.js';
import { runCommand, secretRedactor, writePipes } from './run-command.js';
import { copyChecksum } from './copy-layer.js';
import { stageRef } from './stages.js';
import { reuseStep, fromRoot, imageKind, newImage, type StageState, type StepContext } from './step-state.js';

const EMPTY_TAR_DIGEST = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** Args every build knows without declaring them (Docker's predefined proxy args). */
const PREDEFINED_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

export async function runInstruction(d: BuilderDeps, ins: Instruction, s: StageState, c: StepContext): Promise<StageState> {
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
  const createdBy = argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ${cmd.join(' ')}` : cmd.join(' ');
  const reused = await reuseStep(d, s, key, createdBy, defaults, c.o, c.cacheFrom);
  if (reused) {
    c.say(' ---> Using cache\n');
    c.say(` ---> ${shortId(reused.image!.id)}\n`);
    return reused;
  }
  const stepDir = join(c.work, `run-${++c.counter.n}`);
  for (const m of mounts) if (m.type === 'cache') d.cacheUsage?.used(cacheDirName(m.id));
  const prepared = await prepareMounts(mounts, {
    cacheRoot: d.cacheRoot, stepDir, secrets: c.secrets,
    // a bind of the context shows the directory itself: its held files are written first
    rootOf: (from) => (from === undefined ? c.ready.then(() => c.held.write()).then(() => c.ctx) : fromRoot(d, from, c)),
  });
  let stubs: string[];
  let req: ContainerCreateRequest;
  try {
    stubs = await mountStubs(d, s, prepared.mounts);
    const pipeMounts = await writePipes(pipes, stepDir);
    req = {
      Image: s.image.id, Cmd: cmd, Entrypoint: [''], Env: [...(defaults.Env ?? []), ...argEnv, ...predefined, ...prepared.env],
      WorkingDir: defaults.WorkingDir ?? '', User: defaults.User ?? '', AttachStdout: true, AttachStderr: true, Tty: false,
      HostConfig: {
        NetworkMode: network === 'default' ? c.o.networkMode || 'default' : network,
        Mounts: [...prepared.mounts, ...pipeMounts],
        ...(security === 'insecure' ? { Privileged: true } : {}),
      },
    };
  } catch (err) {
    prepared.release();
    throw err;
  }
  const redact = secretRedactor(c.secrets, mounts);
  let step: StepRun | undefined;
  try {
    step = await d.steps.run(req, {
      dir: stepDir,
      started: (id) => c.say(` ---> Running in ${shortId(id)}\n`),
      output: (data) => c.say(redact(data.toString('utf8'))),
      ...(c.signal ? { signal: c.signal } : {}),
    }).catch((err: unknown) => { throw stepStartError(err); });
    const code = step.exitCode;
    if (code !== 0) {
      throw new BuildStepError(`The command '${(ins.json ? ins.json : cmd).join(' ')}' returned a non-zero code: ${code}`, code);
    }
    const layer = await step.capture(stubs);
    const next = await newImage(d, s, defaults, createdBy, key, layer.diffId === EMPTY_TAR_DIGEST ? undefined : layer);
    // the docker CLI's stream as the classic builder writes it (the step's container is gone either way)
    if (c.o.rm || c.o.forceRm) c.say(`Removing intermediate container ${shortId(step.id)}\n`);
    c.say(` ---> ${shortId(next.image!.id)}\n`);
    return next;
  } finally {
    prepared.release();
    await step?.remove().catch(() => {});
  }
}

/** runc could not start the process: the error the container path gives (runner.ts), with its status. */
function stepStartError(err: unknown): unknown {
  if (!(err instanceof RuntimeStartError)) return err;
  const msg = `failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: ${err.message}: unknown`;
  return startFailureKind(msg) !== undefined ? new InvalidParameter('container.start_failed', msg) : new SystemError('container.start_failed', msg);
}

/**
 * What a bind mount shows the step, for its cache key: a stage's or an
 * image's id, or the checksum of the context files under the source (as
 * COPY's), so an edited file runs the step again.
 */
async function bindSourceKey(d: BuilderDeps, m: Extract<RunMount, { type: 'bind' }>, c: StepContext): Promise<string> {
  if (m.from !== undefined) {
    const dep = stageRef(c.stages, m.from, c.stage.index);
    const named = dep === undefined ? c.named.get(m.from.toLowerCase()) : undefined;
    if (named?.kind === 'local') {
      return `named:${await copyChecksum({ sources: [{ rel: '', abs: named.dir, isDir: true }], dest: '/', destIsDir: true, missingDirs: [], extractArchives: false })}`;
    }
    if (named) return `from:${d.images.tryResolve(named.ref)?.id ?? named.ref}`;
    return `from:${dep !== undefined ? (await c.stageState(dep)).image?.id ?? 'scratch' : d.images.tryResolve(m.from)?.id ?? m.from}`;
  }
  await c.ready;
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

