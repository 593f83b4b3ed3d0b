/**
 * Container lifecycle: create, start, stop, kill, restart, wait, remove,
 * attach, and what happens when a container's process exits. The state
 * machine of a record lives here; the disk behind ContainerStore, the
 * processes behind Runtime.
 *
 * Locking: user operations on one container run one at a time (KeyedLock);
 * exit handling never takes that lock, so `stop` can hold it while it waits
 * for the exit to be recorded.
 */
import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import type { ContainerCreateRequest, ContainerInspect, ContainerSummary, WaitResponse } from '../../api/types/index.js';
import { Conflict, InvalidParameter, NotModified, SystemError } from '../../errdefs/index.js';
import { newId } from '../../lib/ids.js';
import { KeyedLock } from '../../lib/keyed-lock.js';
import type { Logger } from '../../lib/logger.js';
import { resolveInRoot } from '../../lib/scoped-path.js';
import { parseSignal } from '../../lib/signals.js';
import type { EventBus } from '../events/event-bus.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerStore } from '../layers/layer-store.js';
import { JsonFileWriter } from '../logs/json-file.js';
import type { Runtime, Task } from '../runtime/runtime.js';
import { RuntimeStartError } from '../runtime/runtime.js';
import type { ContainerStore } from './container-store.js';
import { newContainerRecord } from './create.js';
import { selectContainers, type ListOptions } from './list.js';
import { LiveContainers, type LiveContainer } from './live.js';
import { validateName, randomName } from './names.js';
import { exitedState, runningState, type ContainerRecord } from './record.js';
import type { ContainerEnvironment } from './environment.js';
import type { ExecRegistry } from './exec-registry.js';
import { containerPaths, mountRootfs, prepareContainerDir, unmountRootfs, type ContainerPaths } from './rootfs.js';
import { buildSpec } from './spec.js';
import type { Attachment } from './streams.js';
import { resolveUser } from './user.js';
import { inspectView, summaryView } from './views.js';

export interface ContainerServiceDeps {
  store: ContainerStore;
  images: ImageStore;
  layers: LayerStore;
  runtime: Runtime;
  events: EventBus;
  log: Logger;
  /** Volumes and networks. */
  env: ContainerEnvironment;
  execs: ExecRegistry;
  cgroupParent: string;
  cgroupVersion: 1 | 2;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

const SIGKILL = 9;
/** How long to let a dead process's output drain before closing its log. */
const OUTPUT_GRACE_MS = 2000;

export class ContainerService {
  private readonly live = new LiveContainers();
  private readonly lock = new KeyedLock();
  /** 'exit' (id, code) after an exit is recorded; 'removed' (id, code) after removal. */
  private readonly lifecycle = new EventEmitter().setMaxListeners(0);

  constructor(private readonly d: ContainerServiceDeps) {}

  paths(id: string): ContainerPaths {
    return containerPaths(this.d.store.dir(id), id);
  }

  private attributes(rec: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...(rec.config.Labels ?? {}), image: rec.config.Image, name: rec.name, ...extra };
  }

  // ------------------------------------------------------------------ create

  async create(req: ContainerCreateRequest, name?: string): Promise<{ Id: string; Warnings: string[] }> {
    if (!req.Image) throw new InvalidParameter('container.no_image', 'Config cannot be empty in order to create a container');
    const image = this.d.images.resolve(req.Image);
    const id = newId();
    const cname = name ? validateName(name) : randomName((n) => this.d.store.nameTaken(n));
    const rec = newContainerRecord({
      id, name: cname, request: req, imageId: image.id, imageConfig: image.config.config ?? {},
      cgroupVersion: this.d.cgroupVersion, ...(image.chainId ? { layer: image.chainId } : {}),
    });
    await this.d.env.create(rec);
    this.d.store.reserveName(cname, id);
    try {
      await prepareContainerDir(this.paths(id));
      await this.d.store.save(rec);
    } catch (err) {
      await this.d.store.delete(id).catch(() => {});
      throw err;
    }
    this.d.events.publish('container', 'create', id, this.attributes(rec));
    return { Id: id, Warnings: [] };
  }

  // ------------------------------------------------------------------ start

  async start(ref: string): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.lock.with(rec.id, () => this.startLocked(rec));
  }

  private async startLocked(rec: ContainerRecord): Promise<void> {
    if (rec.state.Running) throw new NotModified('container.already_started', 'container already started');
    if (rec.state.Status === 'removing' || rec.state.Dead) {
      throw new Conflict('container.not_startable', `cannot start a container that is ${rec.state.Status}`);
    }
    const live = this.live.get(rec.id);
    const paths = this.paths(rec.id);
    let task: Task | undefined;
    let log: JsonFileWriter | undefined;
    try {
      await mountRootfs(this.d.layers, paths, rec.layer);
      const [passwd, group] = await Promise.all([
        readRootfsFile(paths.merged, '/etc/passwd'),
        readRootfsFile(paths.merged, '/etc/group'),
      ]);
      const user = resolveUser(rec.config.User, passwd, group, rec.hostConfig.GroupAdd ?? []);
      const env = await this.d.env.prepare(rec, paths.merged);
      await Promise.all([
        writeFile(paths.hostname, `${rec.config.Hostname}\n`),
        writeFile(paths.hosts, env.hosts),
        writeFile(paths.resolvConf, env.resolvConf),
      ]);
      const spec = buildSpec({
        rec, user, rootfs: paths.merged,
        files: { hostname: paths.hostname, hosts: paths.hosts, resolvConf: paths.resolvConf },
        cgroupsPath: `${this.d.cgroupParent}/${rec.id}`,
        cgroupVersion: this.d.cgroupVersion,
        userMounts: env.mounts,
        ...(env.netnsPath ? { netnsPath: env.netnsPath } : {}),
      });
      log = new JsonFileWriter(paths.log);
      task = await this.d.runtime.create({ id: rec.id, spec, rootfs: [], terminal: rec.config.Tty, stdin: rec.config.OpenStdin });
      const t = task;
      const outputDone = live.streams.connect(t.io, log, { stdinOnce: rec.config.StdinOnce, tty: rec.config.Tty, closeStdin: () => t.closeStdin() });
      await t.start();
      live.task = t;
      live.log = log;
      live.oomKilled = false;
      live.stopping = false;
      rec.state = runningState(rec.state, t.pid, new Date());
      rec.manuallyStopped = false;
      await this.d.store.save(rec);
      live.exited = this.watchExit(rec, live, t, outputDone);
    } catch (err) {
      live.streams.endAll();
      if (task) await task.delete().catch(() => {});
      await log?.close();
      await this.d.env.release(rec).catch(() => {});
      await unmountRootfs(paths).catch(() => {});
      const e = startError(err);
      rec.state = { ...rec.state, Error: e.message, ExitCode: exitCodeOfStartError(e.message) };
      await this.d.store.save(rec);
      if (rec.hostConfig.AutoRemove) void this.autoRemove(rec);
      throw e;
    }
    this.d.events.publish('container', 'start', rec.id, this.attributes(rec));
  }

  /** Records the exit of a run, then applies AutoRemove. */
  private async watchExit(rec: ContainerRecord, live: LiveContainer, task: Task, outputDone: Promise<void>): Promise<void> {
    let exitCode = 255;
    let exitedAt = new Date();
    try {
      ({ exitCode, exitedAt } = await task.wait());
    } catch (err) {
      this.d.log.warn('lost contact with container shim', { id: rec.id, error: (err as Error).message });
    }
    await Promise.race([outputDone, new Promise((r) => setTimeout(r, OUTPUT_GRACE_MS))]);
    live.streams.endAll();
    await task.delete().catch((err: Error) => this.d.log.warn('task delete failed', { id: rec.id, error: err.message }));
    await this.d.env.release(rec).catch((err: Error) => this.d.log.warn('releasing the network failed', { id: rec.id, error: err.message }));
    await unmountRootfs(this.paths(rec.id)).catch((err: Error) => this.d.log.warn('unmount failed', { id: rec.id, error: err.message }));
    await live.log?.close();
    live.task = undefined;
    live.log = undefined;
    this.d.execs.dropContainer(rec.id);
    rec.state = exitedState(rec.state, exitCode, exitedAt, live.oomKilled);
    await this.d.store.save(rec).catch((err: Error) => this.d.log.error('saving container state failed', { id: rec.id, error: err.message }));
    this.d.events.publish('container', 'die', rec.id, this.attributes(rec, { exitCode: String(exitCode) }));
    this.lifecycle.emit('exit', rec.id, exitCode);
    if (rec.hostConfig.AutoRemove) void this.autoRemove(rec);
  }

  private async autoRemove(rec: ContainerRecord): Promise<void> {
    try {
      await this.lock.with(rec.id, () => this.removeLocked(rec, true));
    } catch (err) {
      this.d.log.warn('auto-remove failed', { id: rec.id, error: (err as Error).message });
    }
  }

  // ------------------------------------------------------------------ stop / kill

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.lock.with(rec.id, async () => {
      if (!rec.state.Running) throw new NotModified('container.not_running', 'container already stopped');
      const live = this.live.get(rec.id);
      rec.manuallyStopped = true;
      live.stopping = true;
      const timeout = opts.timeout ?? rec.config.StopTimeout ?? 10;
      const signal = parseSignal(opts.signal || rec.config.StopSignal || 'SIGTERM');
      await this.stopTask(rec, live, signal, timeout);
    });
  }

  /** Sends `signal`, waits `timeout` seconds (negative: forever), then SIGKILL. */
  private async stopTask(rec: ContainerRecord, live: LiveContainer, signal: number, timeout: number): Promise<void> {
    const task = live.task;
    const exited = live.exited;
    if (!task || !exited) return;
    if (signal !== SIGKILL) {
      await task.kill(signal).catch(() => {});
      if (timeout < 0) return exited;
      const done = await Promise.race([exited.then(() => true), sleep(timeout * 1000).then(() => false)]);
      if (done) return;
      this.d.log.info('container did not stop in time, killing it', { id: rec.id, timeout });
    }
    await task.killAll(SIGKILL).catch(() => {});
    await exited;
  }

  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const rec = this.d.store.get(ref);
    const signal = parseSignal(signalName);
    await this.lock.with(rec.id, async () => {
      const live = this.live.get(rec.id);
      if (!rec.state.Running || !live.task) throw new Conflict('container.not_running', `Container ${rec.id} is not running`);
      if (signal === SIGKILL) rec.manuallyStopped = true;
      this.d.events.publish('container', 'kill', rec.id, this.attributes(rec, { signal: String(signal) }));
      if (signal === SIGKILL) {
        await live.task.killAll(SIGKILL);
        await live.exited;
      } else {
        await live.task.kill(signal);
      }
    });
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.lock.with(rec.id, async () => {
      if (rec.state.Running) {
        const live = this.live.get(rec.id);
        live.stopping = true;
        const timeout = opts.timeout ?? rec.config.StopTimeout ?? 10;
        await this.stopTask(rec, live, parseSignal(opts.signal || rec.config.StopSignal || 'SIGTERM'), timeout);
      }
      await this.startLocked(rec);
    });
    this.d.events.publish('container', 'restart', rec.id, this.attributes(rec));
  }

  // ------------------------------------------------------------------ wait

  /** Resolves when `condition` holds; `signal` abandons the wait (client went away). */
  async wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResponse> {
    const rec = this.d.store.get(ref);
    if (condition === 'not-running' && !rec.state.Running) return { StatusCode: rec.state.ExitCode, Error: null };
    const event = condition === 'removed' ? 'removed' : 'exit';
    return new Promise<WaitResponse>((resolve, reject) => {
      const onEvent = (id: string, code: number) => {
        if (id !== rec.id) return;
        cleanup();
        resolve({ StatusCode: code, Error: null });
      };
      const onAbort = () => {
        cleanup();
        reject(new SystemError('container.wait_cancelled', 'context canceled'));
      };
      const cleanup = () => {
        this.lifecycle.off(event, onEvent);
        signal?.removeEventListener('abort', onAbort);
      };
      this.lifecycle.on(event, onEvent);
      signal?.addEventListener('abort', onAbort);
    });
  }

  // ------------------------------------------------------------------ remove

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.d.store.get(ref);
    await this.lock.with(rec.id, async () => {
      if (rec.state.Running) {
        if (!opts.force) {
          throw new Conflict('container.running', `You cannot remove a running container ${rec.id}. Stop the container before attempting removal or force remove`);
        }
        const live = this.live.get(rec.id);
        rec.manuallyStopped = true;
        live.stopping = true;
        await this.stopTask(rec, live, SIGKILL, 0);
      }
      await this.removeLocked(rec, !!opts.volumes);
    });
  }

  private async removeLocked(rec: ContainerRecord, volumes: boolean): Promise<void> {
    if (!this.d.store.find(rec.id)) return; // already gone (auto-remove raced a user rm)
    rec.state = { ...rec.state, Status: 'removing' };
    await unmountRootfs(this.paths(rec.id)).catch(() => {});
    await this.d.store.delete(rec.id);
    await this.d.env.remove(rec, { volumes }).catch((err: Error) => this.d.log.warn('removing volumes failed', { id: rec.id, error: err.message }));
    this.live.get(rec.id).streams.endAll();
    this.live.delete(rec.id);
    this.d.events.publish('container', 'destroy', rec.id, this.attributes(rec));
    this.lifecycle.emit('removed', rec.id, rec.state.ExitCode);
  }

  // ------------------------------------------------------------------ attach, queries

  /** Connects a client to the container's stdio; returns the detach function. */
  attach(ref: string, a: Attachment): { rec: ContainerRecord; detach: () => void } {
    const rec = this.d.store.get(ref);
    const live = this.live.get(rec.id);
    const detach = live.streams.attach(a);
    this.d.events.publish('container', 'attach', rec.id, this.attributes(rec));
    return { rec, detach };
  }

  get(ref: string): ContainerRecord {
    return this.d.store.get(ref);
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const { rec, task } = this.runningTask(ref);
    if (!rec.config.Tty) return;
    await task.resize(width, height);
  }

  /** A running container's live task (exec, top, stats); Conflict when it is not running or paused. */
  runningTask(ref: string): { rec: ContainerRecord; task: Task } {
    const rec = this.d.store.get(ref);
    const task = this.live.peek(rec.id)?.task;
    if (!rec.state.Running || !task) throw new Conflict('container.not_running', `Container ${rec.id} is not running`);
    if (rec.state.Paused) throw new Conflict('container.paused', `Container ${rec.id} is paused, unpause the container before exec`);
    return { rec, task };
  }

  /** Reads a file of a container's mounted rootfs, resolving symlinks inside the rootfs only. */
  readRootfsFile(id: string, path: string): Promise<string | undefined> {
    return readRootfsFile(this.paths(id).merged, path);
  }

  /** The log of a container, and its live writer while it runs (for `logs -f`). */
  logSource(ref: string): { rec: ContainerRecord; path: string; writer: JsonFileWriter | undefined } {
    const rec = this.d.store.get(ref);
    return { rec, path: this.paths(rec.id).log, writer: this.live.peek(rec.id)?.log };
  }

  async inspect(ref: string): Promise<ContainerInspect> {
    const rec = this.d.store.get(ref);
    const lowerDirs = rec.layer ? await this.d.layers.lowerDirs(rec.layer) : [];
    return inspectView(rec, { paths: this.paths(rec.id), lowerDirs, execIds: this.d.execs.ofContainer(rec.id).map((e) => e.id) });
  }

  list(opts: Omit<ListOptions, 'isAncestor'>): ContainerSummary[] {
    const now = Date.now();
    const isAncestor = (r: ContainerRecord, ref: string) => this.d.images.tryResolve(ref)?.id === r.image;
    return selectContainers(this.d.store.list(), { ...opts, isAncestor }).map((r) => summaryView(r, r.config.Image, now));
  }

  counts(): { total: number; running: number; paused: number; stopped: number } {
    let running = 0;
    let paused = 0;
    const all = this.d.store.list();
    for (const r of all) {
      if (r.state.Paused) paused++;
      else if (r.state.Running) running++;
    }
    return { total: all.length, running, paused, stopped: all.length - running - paused };
  }

  /** Is any container (running or not) using this image? */
  usesImage(imageId: string): ContainerRecord | undefined {
    return this.d.store.list().find((r) => r.image === imageId);
  }

  // ------------------------------------------------------------------ daemon start-up

  /**
   * Reconnects to containers that kept running while berthd was down, and
   * records the real exit code of those that stopped meanwhile.
   */
  async restore(records: ContainerRecord[]): Promise<void> {
    const known = new Set(records.map((r) => r.id));
    for (const id of await this.d.runtime.list()) {
      if (known.has(id)) continue;
      this.d.log.warn('removing runtime state of an unknown container', { id });
      const r = await this.d.runtime.restore(id);
      if (r.state === 'alive') {
        await r.task.killAll(SIGKILL).catch(() => {});
        await r.task.wait().catch(() => {});
        await r.task.delete().catch(() => {});
      }
    }
    await Promise.all(records.map((rec) => this.restoreOne(rec)));
  }

  private async restoreOne(rec: ContainerRecord): Promise<void> {
    const paths = this.paths(rec.id);
    if (!rec.state.Running) {
      await unmountRootfs(paths).catch(() => {});
      return;
    }
    const live = this.live.get(rec.id);
    const r = await this.d.runtime.restore(rec.id);
    if (r.state === 'gone') {
      await unmountRootfs(paths).catch(() => {});
      rec.state = exitedState(rec.state, r.exit.exitCode, r.exit.exitedAt);
      await this.d.store.save(rec);
      this.d.log.info('container exited while the daemon was down', { id: rec.id, exitCode: r.exit.exitCode });
      if (rec.hostConfig.AutoRemove) await this.lock.with(rec.id, () => this.removeLocked(rec, true));
      return;
    }
    const task = r.task;
    const log = new JsonFileWriter(paths.log);
    const outputDone = live.streams.connect(task.io, log, { stdinOnce: rec.config.StdinOnce, tty: rec.config.Tty, closeStdin: () => task.closeStdin() });
    live.task = task;
    live.log = log;
    rec.state = { ...rec.state, Pid: task.pid || rec.state.Pid };
    live.exited = this.watchExit(rec, live, task, outputDone);
    this.d.log.info('reconnected to running container', { id: rec.id });
  }

  /** Daemon shutdown without live-restore: stop every running container as `docker stop` would. */
  async stopAll(): Promise<void> {
    const running = this.d.store.list().filter((r) => r.state.Running);
    const stopOne = (r: ContainerRecord) => this.lock.with(r.id, async () => {
      // not a user's stop: restart policies still apply when the daemon comes back
      const live = this.live.get(r.id);
      live.stopping = true;
      await this.stopTask(r, live, parseSignal(r.config.StopSignal || 'SIGTERM'), r.config.StopTimeout ?? 10);
    });
    await Promise.all(running.map((r) => stopOne(r).catch((err: Error) => this.d.log.warn('stop at shutdown failed', { id: r.id, error: err.message }))));
  }

  /** Marks a container OOM-killed (the runtime tells us before the exit). */
  noteOom(id: string): void {
    const live = this.live.peek(id);
    if (live) live.oomKilled = true;
    const rec = this.d.store.find(id);
    if (rec) this.d.events.publish('container', 'oom', id, this.attributes(rec));
  }
}

async function readRootfsFile(root: string, path: string): Promise<string | undefined> {
  try {
    return await readFile(await resolveInRoot(root, path), 'utf8');
  } catch {
    return undefined;
  }
}

function startError(err: unknown): Error {
  if (err instanceof RuntimeStartError) {
    const msg = `failed to create task for container: failed to create shim task: ${err.message}: unknown`;
    return /executable file not found|no such file or directory|permission denied|not a directory/i.test(msg)
      ? new InvalidParameter('container.start_failed', msg)
      : new SystemError('container.start_failed', msg);
  }
  return err as Error;
}

/** moby's translateContainerdStartErr: 127 for a missing command, 126 for one that cannot run. */
function exitCodeOfStartError(msg: string): number {
  const m = msg.toLowerCase();
  if (m.includes('executable file not found') || m.includes('no such file or directory')) return 127;
  if (m.includes('permission denied')) return 126;
  if (m.includes('not a directory')) return 127;
  return 128;
}

function sleep(ms: number): Promise<void> {
  // unref: a pending stop timeout must not keep the daemon alive
  return new Promise((r) => setTimeout(r, ms).unref());
}
