/**
 * Runs containers: start a record's process through the runtime, watch it
 * exit, apply restart policies and AutoRemove, stop it, reconnect after a
 * daemon restart. Holds what is live in memory (tasks, streams, logs).
 *
 * Locking: user operations on one container run one at a time (`lock`);
 * exit handling never takes that lock, so `stop` can hold it while it waits
 * for the exit to be recorded.
 */
import { EventEmitter } from 'node:events';
import { posix } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { startFailureKind, startFailureStatus } from '../../api/start-errors.js';
import { Conflict, InvalidParameter, NotModified, SystemError } from '../../errdefs/index.js';
import { KeyedLock } from '../../lib/keyed-lock.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';
import { parseSignal } from '../../lib/signals.js';
import type { EventBus } from '../events/event-bus.js';
import type { LayerStore } from '../layers/layer-store.js';
import { JsonFileWriter } from '../logs/json-file.js';
import { criLogLine } from '../logs/cri-format.js';
import { rotationOf } from '../logs/log-options.js';
import type { Runtime, Task } from '../runtime/runtime.js';
import { RuntimeStartError } from '../runtime/runtime.js';
import type { ContainerStore } from './container-store.js';
import { releasePrepared, type ContainerEnvironment, type PreparedEnvironment } from './environment.js';
import type { ExecRegistry } from './exec-registry.js';
import { LiveContainers, type LiveContainer } from './live.js';
import { eventAttributes, exitedState, restartingState, runningState, type ContainerRecord } from './record.js';
import { oomKilledInCgroup } from './oom.js';
import { nextBackoff, restartsOnDaemonStart, shouldRestart } from './restart-policy.js';
import { overlayRootfs, type ContainerPaths, type RootfsMounter } from './rootfs.js';
import type { ContainerSecurity } from './security/security.js';
import { buildSpec } from './spec.js';
import { sharedNamespaces } from './shared-namespaces.js';
import { readRootfsFile } from './archive/rootfs-file.js';
import { resolveUser } from './user.js';
import { span, summarize, tracer } from '../../lib/spans.js';

export interface RunnerDeps {
  store: ContainerStore;
  layers: LayerStore;
  runtime: Runtime;
  events: EventBus;
  log: Logger;
  /** Volumes and networks. */
  env: ContainerEnvironment;
  execs: ExecRegistry;
  cgroupParent: string;
  cgroupVersion: 1 | 2;
  /** Seccomp facts, --init, devices, userns-remap ownership. */
  security?: ContainerSecurity;
  /** Healthchecks follow each run: on at start and restore, off at exit and removal. */
  health?: HealthHooks;
  /** The rootfs mount (default: overlay); unit tests pass a stand-in that needs no root. */
  rootfs?: RootfsMounter;
  /** Shared with the services that act on a container outside the runner (networks, archive, exec). */
  live?: LiveContainers;
  lock?: KeyedLock;
}

/** What the runner tells the healthchecks (HealthChecks in health-checks.ts). */
export interface HealthHooks {
  started(rec: ContainerRecord): void;
  stopped(rec: ContainerRecord): Promise<void>;
  detachAll(): Promise<void>;
}

export const SIGKILL = 9;
/** Output quiet this long after the exit is cut (moby waits 2 s in all); still flowing, it is waited for up to the cap. */
const OUTPUT_GRACE_MS = 2000;
const OUTPUT_CAP_MS = 60_000;

/** A CRI container shares its pod sandbox's shim (the sandbox whose network it joins), as containerd does. */
export function shimGroupOf(rec: Pick<ContainerRecord, 'cri' | 'hostConfig'>): string | undefined {
  return rec.cri ? /^container:([0-9a-f]{64})$/.exec(rec.hostConfig.NetworkMode ?? '')?.[1] : undefined;
}

export class ContainerRunner {
  readonly live: LiveContainers;
  readonly lock: KeyedLock;
  /** 'exit' (id, code) after an exit is recorded; 'removed' (id, code) after removal. */
  readonly lifecycle = new EventEmitter().setMaxListeners(0);
  private shuttingDown = false;

  private readonly rootfs: RootfsMounter;

  constructor(private readonly d: RunnerDeps) {
    this.rootfs = d.rootfs ?? overlayRootfs;
    this.live = d.live ?? new LiveContainers();
    this.lock = d.lock ?? new KeyedLock();
  }

  paths(id: string): ContainerPaths {
    return this.d.store.paths(id);
  }

  // ------------------------------------------------------------------ start

  /** Starts a container's process; the caller holds the container's lock. */
  async startLocked(rec: ContainerRecord): Promise<void> {
    if (rec.state.Running && !rec.state.Restarting) throw new NotModified('container.already_started', 'container already started');
    if (rec.state.Status === 'removing' || rec.state.Dead) {
      throw new Conflict('container.not_startable', `cannot start a container that is ${rec.state.Status}`);
    }
    const live = this.live.get(rec.id);
    this.cancelRestart(live);
    const paths = this.paths(rec.id);
    let task: Task | undefined;
    let log: JsonFileWriter | undefined;
    // the shim starts while the rootfs and the spec are prepared
    this.d.runtime.prepare?.(rec.id, shimGroupOf(rec));
    let envReady: Promise<PreparedEnvironment> | undefined;
    try {
      // before the mount: under userns-remap it gives the container's layers to the remapped root
      const security = await span('security prepare', () => this.d.security?.prepare(rec, paths));
      // an auto-removed container's writable layer goes at its exit: its unmount need not wait
      // for the host disk's writeback (a `run --rm` that wrote to a bind mount, ~1 s per 500 MB)
      const mounted = span('rootfs mount', () => this.rootfs.mount(this.d.layers, paths, rec.layer, { volatile: rec.hostConfig.AutoRemove === true }));
      envReady = span('env prepare', () => this.d.env.prepare(rec, paths.merged, mounted));
      envReady.catch(() => {}); // awaited below; a mount failure surfaces first
      await mounted;
      const [passwd, group] = await span('read passwd+group', () => Promise.all([
        readRootfsFile(paths.merged, '/etc/passwd'),
        readRootfsFile(paths.merged, '/etc/group'),
      ]));
      const user = resolveUser(rec.config.User, passwd, group, rec.hostConfig.GroupAdd ?? []);
      const env = await envReady;
      // the runtime creates the task while the network comes up (CNI ADD): it needs the namespace,
      // not its interfaces; hosts and resolv.conf are bind-mounted files, filled in place before the start
      const networkUp = span('network files', async () => {
        const files = await env.network;
        await Promise.all([writeFile(paths.hosts, files.hosts), writeFile(paths.resolvConf, files.resolvConf)]);
      });
      networkUp.catch(() => {}); // awaited below
      await span('write etc files', () => Promise.all([
        writeFile(paths.hostname, `${rec.config.Hostname}\n`),
        writeFile(paths.hosts, '', { flag: 'a' }), // exists for the bind mount; its content may already be written
        writeFile(paths.resolvConf, '', { flag: 'a' }),
      ]));
      // runc applies sysctls during create: one may name an interface the CNI is still making
      if (namesNetSysctl(rec)) await networkUp;
      const joined = sharedNamespaces(rec.hostConfig, (ref) => this.d.store.find(ref));
      const spec = buildSpec({
        rec, user, rootfs: paths.merged, joined,
        files: { hostname: paths.hostname, hosts: paths.hosts, resolvConf: paths.resolvConf },
        cgroupsPath: this.cgroupsPath(rec),
        cgroupVersion: this.d.cgroupVersion,
        userMounts: env.mounts,
        ...(env.netnsPath ? { netnsPath: env.netnsPath } : {}),
        ...(security ? { security } : {}),
      });
      log = await openLog(rec, paths.log);
      task = await span('runtime create', () => this.d.runtime.create({ id: rec.id, spec, rootfs: [], terminal: rec.config.Tty, stdin: rec.config.OpenStdin }))
        // a network that failed meanwhile took its namespace with it: its error is the cause, not runc's
        .catch(async (err: unknown) => { await networkUp; throw err; });
      const t = task;
      const outputDone = live.streams.connect(t.io, log, { stdinOnce: rec.config.StdinOnce, tty: rec.config.Tty, closeStdin: () => t.closeStdin() });
      await span('network wait', () => networkUp);
      await span('task start', () => t.start());
      live.task = t;
      live.log = log;
      live.oomKilled = false;
      live.stopping = false;
      rec.state = runningState(rec.state, t.pid, new Date());
      rec.manuallyStopped = false;
      this.d.health?.started(rec);
      await span('save record', () => this.d.store.save(rec));
      live.exited = this.watchExit(rec, live, t, outputDone);
    } catch (err) {
      live.streams.endAll();
      await this.d.health?.stopped(rec); // started only if the failure came after the task started
      if (task) await task.delete().catch(cleanupFailed(this.d.log, 'delete the task', { id: rec.id }));
      else await this.d.runtime.discard?.(rec.id).catch(cleanupFailed(this.d.log, 'discard the prepared task', { id: rec.id }));
      await log?.close();
      if (envReady) await releasePrepared(this.d.env, rec, envReady).catch(cleanupFailed(this.d.log, 'release networks and volumes', { id: rec.id }));
      await this.rootfs.unmount(paths).catch(cleanupFailed(this.d.log, 'unmount the rootfs', { id: rec.id }));
      const e = startError(err);
      rec.state = { ...rec.state, Running: false, Restarting: false, Status: rec.state.Status === 'restarting' ? 'exited' : rec.state.Status, Error: e.message, ExitCode: startFailureStatus(e.message, 128) };
      await this.d.store.save(rec);
      if (rec.hostConfig.AutoRemove) void this.autoRemove(rec);
      throw e;
    }
    this.d.events.publish('container', 'start', rec.id, eventAttributes(rec));
  }

  /** The container's cgroup: under its own `--cgroup-parent` when it has one (a CRI pod's cgroup), else the daemon's. */
  cgroupsPath(rec: Pick<ContainerRecord, 'id' | 'hostConfig'>): string {
    const parent = rec.hostConfig.CgroupParent;
    return parent ? posix.join('/', parent, rec.id) : `${this.d.cgroupParent}/${rec.id}`;
  }

  /** Records the exit of a run, then applies the restart policy or AutoRemove. */
  private async watchExit(rec: ContainerRecord, live: LiveContainer, task: Task, outputDone: Promise<void>): Promise<void> {
    let exitCode = 255;
    let exitedAt = new Date();
    try {
      ({ exitCode, exitedAt } = await task.wait());
    } catch (err) {
      this.d.log.warn('lost contact with container shim', { id: rec.id, error: (err as Error).message });
    }
    // a trace of its own: this runs in the start request's async context, long after it answered
    await tracer.trace(`container exit ${rec.id.slice(0, 12)}`, () => this.recordExit(rec, live, task, outputDone, exitCode, exitedAt), (t) => {
      this.d.log.debug('exit spans', { id: rec.id, spans: summarize(t) });
    });
  }

  private async recordExit(rec: ContainerRecord, live: LiveContainer, task: Task, outputDone: Promise<void>, exitCode: number, exitedAt: Date): Promise<void> {
    live.exiting = true;
    await this.d.health?.stopped(rec); // before anything else: no probe may start in a dying container
    // the shim's OOM event may trail the exit: the cgroup's own counter decides (read before the task is deleted)
    if (!live.oomKilled && (await span('oom check', () => oomKilledInCgroup(this.d.cgroupVersion, this.cgroupsPath(rec))))) this.noteOom(rec.id);
    await span('output drain', () => live.streams.settled(outputDone, OUTPUT_GRACE_MS, OUTPUT_CAP_MS));
    live.streams.endRun();
    // the network and volumes are released while the runtime deletes the task; the rootfs
    // needs only the task gone, so it is unmounted while the network is still being released
    const released = span('env release', () => this.d.env.release(rec)).catch((err: Error) => this.d.log.warn('releasing the network failed', { id: rec.id, error: err.message }));
    await span('task delete', () => task.delete()).catch((err: Error) => this.d.log.warn('task delete failed', { id: rec.id, error: err.message }));
    await span('rootfs unmount', () => this.rootfs.unmount(this.paths(rec.id))).catch((err: Error) => this.d.log.warn('unmount failed', { id: rec.id, error: err.message }));
    await released;
    await live.log?.close();
    live.task = undefined;
    live.log = undefined;
    this.d.execs.dropContainer(rec.id);
    const restart = !rec.hostConfig.AutoRemove && shouldRestart(rec.hostConfig.RestartPolicy, {
      exitCode, restartCount: rec.restartCount, manuallyStopped: rec.manuallyStopped, daemonStopping: this.shuttingDown || live.stopping,
    });
    rec.state = restart ? restartingState(rec.state, exitCode, exitedAt, live.oomKilled) : exitedState(rec.state, exitCode, exitedAt, live.oomKilled);
    const autoRemove = rec.hostConfig.AutoRemove && !live.restarting;
    // an auto-removed container is deleted next: no need to persist its last state (a crash before the
    // removal is recovered at start-up, where the task is found gone and the container removed)
    if (!autoRemove) {
      await this.d.store.save(rec).catch((err: Error) => this.d.log.error('saving container state failed', { id: rec.id, error: err.message }));
    }
    live.exiting = false;
    this.d.events.publish('container', 'die', rec.id, eventAttributes(rec, { exitCode: String(exitCode) }));
    this.lifecycle.emit('exit', rec.id, exitCode);
    if (restart) this.scheduleRestart(rec, live, exitedAt.getTime() - Date.parse(rec.state.StartedAt));
    // inside this trace's context: its spans land in the exit trace, after its total
    else if (autoRemove) void span('auto remove', () => this.autoRemove(rec));
  }

  private scheduleRestart(rec: ContainerRecord, live: LiveContainer, ranForMs: number): void {
    live.backoffMs = nextBackoff(live.backoffMs, ranForMs);
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined;
      void this.lock.with(rec.id, async () => {
        if (!rec.state.Restarting) return; // stopped or removed meanwhile
        rec.restartCount++;
        await this.startLocked(rec);
      }).catch((err: Error) => this.d.log.warn('restart failed', { id: rec.id, error: err.message }));
    }, live.backoffMs);
    live.restartTimer.unref();
  }

  private cancelRestart(live: LiveContainer): void {
    if (live.restartTimer) clearTimeout(live.restartTimer);
    live.restartTimer = undefined;
  }

  async autoRemove(rec: ContainerRecord): Promise<void> {
    try {
      await this.lock.with(rec.id, () => this.removeLocked(rec, true));
    } catch (err) {
      this.d.log.warn('auto-remove failed', { id: rec.id, error: (err as Error).message });
    }
  }

  // ------------------------------------------------------------------ stop

  /** `docker restart`: stop (an auto-removed container is not removed by this exit), then start. */
  async restartLocked(rec: ContainerRecord, signal: number, timeout: number): Promise<void> {
    if (rec.state.Running) {
      const live = this.live.get(rec.id);
      live.restarting = true;
      try {
        await this.stopTask(rec, signal, timeout);
      } finally {
        live.restarting = false;
      }
    }
    await this.startLocked(rec);
  }

  /**
   * Sends `signal`, waits `timeout` seconds (negative: forever), then
   * SIGKILL; resolves once the exit is recorded. A container waiting to be
   * restarted simply stops waiting.
   */
  async stopTask(rec: ContainerRecord, signal: number, timeout: number): Promise<void> {
    const live = this.live.get(rec.id);
    live.stopping = true;
    if (live.restartTimer || (rec.state.Restarting && !live.task)) {
      this.cancelRestart(live);
      rec.state = { ...rec.state, Status: 'exited', Running: false, Restarting: false };
      await this.d.store.save(rec);
      return;
    }
    const task = live.task;
    const exited = live.exited;
    if (!task || !exited) return;
    if (rec.state.Paused) await task.resume().catch(cleanupFailed(this.d.log, 'resume before the signal', { id: rec.id })); // a frozen process cannot act on a signal
    if (signal !== SIGKILL) {
      await task.kill(signal).catch(cleanupFailed(this.d.log, 'signal', { id: rec.id, signal }));
      if (timeout < 0) return exited;
      const done = await Promise.race([exited.then(() => true), sleep(timeout * 1000).then(() => false)]);
      if (done) return;
      this.d.log.info('container did not stop in time, killing it', { id: rec.id, timeout });
    }
    await task.killAll(SIGKILL).catch(cleanupFailed(this.d.log, 'kill', { id: rec.id }));
    await exited;
  }

  // ------------------------------------------------------------------ remove

  /** Deletes a stopped container; the caller holds the lock. */
  async removeLocked(rec: ContainerRecord, volumes: boolean): Promise<void> {
    if (!this.d.store.find(rec.id)) return; // already gone (auto-remove raced a user rm)
    const live = this.live.get(rec.id);
    this.cancelRestart(live);
    rec.state = { ...rec.state, Status: 'removing' };
    await this.d.health?.stopped(rec);
    await this.rootfs.unmount(this.paths(rec.id)).catch(cleanupFailed(this.d.log, 'unmount the rootfs', { id: rec.id }));
    await this.d.store.delete(rec.id);
    await this.d.env.remove(rec, { volumes }).catch((err: Error) => this.d.log.warn('removing volumes failed', { id: rec.id, error: err.message }));
    live.streams.endAll();
    this.live.delete(rec.id);
    this.d.execs.dropContainer(rec.id);
    this.d.events.publish('container', 'destroy', rec.id, eventAttributes(rec));
    this.lifecycle.emit('removed', rec.id, rec.state.ExitCode);
  }

  // ------------------------------------------------------------------ live state

  /** A running container's live task; Conflict when it is not running (or paused, unless allowed). */
  runningTask(rec: ContainerRecord, allowPaused = false): Task {
    return this.live.runningTask(rec, allowPaused);
  }

  /**
   * `op` on the running task. A task that ends while `op` runs (a stop or
   * an exit racing it) makes `op` fail inside the runtime: that is the
   * Conflict a stopped container gets, not an internal error.
   */
  async withRunningTask<T>(rec: ContainerRecord, op: (task: Task) => Promise<T>, allowPaused = true): Promise<T> {
    const task = this.runningTask(rec, allowPaused);
    try {
      return await op(task);
    } catch (err) {
      const status = await task.status().catch(() => 'stopped' as const);
      if (status === 'stopped' || !rec.state.Running) throw new Conflict('container.not_running', `Container ${rec.id} is not running`);
      throw err;
    }
  }

  /** Reads a file of a container's mounted rootfs, resolving symlinks inside the rootfs only. */
  logWriter(id: string): JsonFileWriter | undefined {
    return this.live.peek(id)?.log;
  }

  /** Marks a container OOM-killed (the runtime tells us before the exit). */
  noteOom(id: string): void {
    const live = this.live.peek(id);
    if (live) live.oomKilled = true;
    const rec = this.d.store.find(id);
    if (rec) this.d.events.publish('container', 'oom', id, eventAttributes(rec));
  }

  // ------------------------------------------------------------------ daemon start and stop

  /**
   * Reconnects to containers that kept running while berthd was down,
   * records the real exit code of those that stopped meanwhile, and removes
   * runtime state nobody owns.
   */
  async restore(records: ContainerRecord[]): Promise<void> {
    // a crash between the shim's start and the running state's save leaves
    // runtime state that no running record owns
    const owners = new Set(records.filter((r) => r.state.Running && !r.state.Restarting).map((r) => r.id));
    for (const id of await this.d.runtime.list()) {
      if (owners.has(id)) continue;
      this.d.log.warn('removing runtime state no running container owns', { id });
      const r = await this.d.runtime.restore(id);
      if (r.state === 'alive') {
        await r.task.killAll(SIGKILL).catch(cleanupFailed(this.d.log, 'kill an unowned task', { id }));
        await r.task.wait().catch(cleanupFailed(this.d.log, 'wait for an unowned task', { id }));
        await r.task.delete().catch(cleanupFailed(this.d.log, 'delete an unowned task', { id }));
      }
    }
    await Promise.all(records.map((rec) => this.restoreOne(rec)));
  }

  private async restoreOne(rec: ContainerRecord): Promise<void> {
    const paths = this.paths(rec.id);
    if (!rec.state.Running || rec.state.Restarting) {
      if (rec.state.Restarting) rec.state = { ...rec.state, Status: 'exited', Running: false, Restarting: false };
      await this.rootfs.unmount(paths).catch(cleanupFailed(this.d.log, 'unmount the rootfs', { id: rec.id }));
      return;
    }
    const live = this.live.get(rec.id);
    const r = await this.d.runtime.restore(rec.id);
    if (r.state === 'gone') {
      await this.d.env.release(rec).catch(cleanupFailed(this.d.log, 'release networks and volumes', { id: rec.id }));
      await this.rootfs.unmount(paths).catch(cleanupFailed(this.d.log, 'unmount the rootfs', { id: rec.id }));
      rec.state = exitedState(rec.state, r.exit.exitCode, r.exit.exitedAt);
      await this.d.store.save(rec);
      this.d.log.info('container exited while the daemon was down', { id: rec.id, exitCode: r.exit.exitCode });
      if (rec.hostConfig.AutoRemove) await this.lock.with(rec.id, () => this.removeLocked(rec, true));
      return;
    }
    const task = r.task;
    const log = await openLog(rec, paths.log);
    const outputDone = live.streams.connect(task.io, log, { stdinOnce: rec.config.StdinOnce, tty: rec.config.Tty, closeStdin: () => task.closeStdin() });
    live.task = task;
    live.log = log;
    const status = await task.status().catch(() => 'unknown' as const);
    rec.state = { ...rec.state, Pid: task.pid || rec.state.Pid, Paused: status === 'paused', Status: status === 'paused' ? 'paused' : 'running' };
    live.exited = this.watchExit(rec, live, task, outputDone);
    if (status === 'stopped') {
      // it exited while nobody watched: record that before the API answers anything
      await live.exited;
      this.d.log.info('container exited while the daemon was down', { id: rec.id, exitCode: rec.state.ExitCode });
      return;
    }
    if (status !== 'paused') this.d.health?.started(rec);
    this.d.log.info('reconnected to running container', { id: rec.id });
  }

  /** After start-up: containers whose restart policy says they come back with the daemon. */
  async applyRestartPolicies(records: ContainerRecord[]): Promise<void> {
    const due = records.filter((r) => !r.state.Running && this.d.store.find(r.id) &&
      restartsOnDaemonStart(r.hostConfig.RestartPolicy, r.state.ExitCode, r.manuallyStopped, r.restartCount));
    await Promise.all(due.map((r) => this.lock.with(r.id, () => this.startLocked(r)).catch((err: Error) =>
      this.d.log.warn('restart at daemon start failed', { id: r.id, error: err.message }))));
  }

  /** Daemon shutdown without live-restore: stop every running container as `docker stop` would. */
  async stopAll(): Promise<void> {
    this.shuttingDown = true;
    const running = this.d.store.list().filter((r) => r.state.Running);
    await Promise.all(running.map((r) => this.lock.with(r.id, () => this.stopTask(r, parseStopSignal(r), r.config.StopTimeout ?? 10))
      .catch((err: Error) => this.d.log.warn('stop at shutdown failed', { id: r.id, error: err.message }))));
  }

  /** Live restore: keep containers running but stop scheduling restarts. */
  async detachAll(): Promise<void> {
    this.shuttingDown = true;
    await this.d.health?.detachAll();
  }
}

/** A `net.*` sysctl of the user's (the runtime's own defaults are namespace-wide, not per interface). */
function namesNetSysctl(rec: ContainerRecord): boolean {
  return Object.keys(rec.hostConfig.Sysctls ?? {}).some((k) => k.startsWith('net.'));
}

/** A CRI container writes the CRI log format where the kubelet asked; every other one its json-file log. */
function openLog(rec: ContainerRecord, jsonLog: string): Promise<JsonFileWriter> {
  if (rec.cri?.logPath) return JsonFileWriter.open(rec.cri.logPath, { maxFiles: 1 }, criLogLine);
  return JsonFileWriter.open(jsonLog, rotationOf(rec.hostConfig.LogConfig));
}

function parseStopSignal(rec: ContainerRecord): number {
  return parseSignal(rec.config.StopSignal || 'SIGTERM');
}

function startError(err: unknown): Error {
  if (err instanceof RuntimeStartError) {
    const msg = `failed to create task for container: failed to create shim task: ${err.message}: unknown`;
    // the image or the command line is at fault (nothing to run): a client error
    return startFailureKind(msg) !== undefined
      ? new InvalidParameter('container.start_failed', msg)
      : new SystemError('container.start_failed', msg);
  }
  return err as Error;
}

function sleep(ms: number): Promise<void> {
  // unref: a pending stop timeout must not keep the daemon alive
  return new Promise((r) => setTimeout(r, ms).unref());
}
