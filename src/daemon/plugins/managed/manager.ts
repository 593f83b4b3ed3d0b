/**
 * Managed plugins (`docker plugin …`): create from a tar of config.json +
 * rootfs/, enable (run the rootfs through the runtime, wait for its socket,
 * hand a client to the plugin registry), disable, set, remove; plugins that
 * die are started again, and enabled plugins come back with the daemon.
 *
 *   await plugins.create('vol', tarStream);         // disabled, in the store
 *   await plugins.enable('vol', 30);                // running, socket answering
 *   await registry.get('vol', 'VolumeDriver');      // found here before legacy plugins
 *
 * Runs in a runtime of its own (its own exec root), so the container
 * runner never mistakes a plugin's task for an orphaned container's.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { Conflict, InvalidParameter, SystemError } from '../../../errdefs/index.js';
import { cleanupFailed, type Logger } from '../../../lib/logger.js';
import { run } from '../../../lib/exec.js';
import { mount, mountsUnder, unmount } from '../../../lib/mount.js';
import type { Runtime, Task } from '../../runtime/runtime.js';
import { applyLayer } from '../../layers/apply.js';
import { decompressed } from '../../layers/decompress.js';
import type { EventBus } from '../../events/event-bus.js';
import { PluginClient } from '../client.js';
import type { ActivePlugin } from '../registry.js';
import {
  applySettings, checkRunnable, implementsOf, initialSettings, MAX_CONFIG_BYTES, parsePluginConfig, withLatest, type PluginConfig, type PluginObject,
} from './config.js';
import { noSuchPlugin, PluginStore } from './plugin-store.js';
import { pluginSpec } from './spec.js';

const SIGTERM = 15;
const SIGKILL = 9;
/** moby's shutdown grace for a plugin before SIGKILL. */
const STOP_GRACE_MS = 10_000;
/** A plugin that keeps dying is started again no faster than this (doubling up to a minute). */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 60_000;
const DEFAULT_ENABLE_TIMEOUT_S = 30;

export interface ManagedPluginsOptions {
  store: PluginStore;
  runtime: Runtime;
  /** Host directory under which each plugin gets <id>/ for its socket. */
  socketRoot: string;
  cgroupParent: string;
  cgroupVersion: 1 | 2;
  timeoutMs: number;
  log: Logger;
  events?: EventBus;
  /** How many volumes use a plugin (by its full name): in use means no disable or rm without force. */
  usersOf: (pluginName: string) => number;
  /** Upper bound of the uncompressed create tar. */
  maxBytes?: number;
}

interface Running {
  task?: Task;
  client?: PluginClient;
  /** Resolves once the socket answers; rejects when the start failed. */
  ready: Promise<PluginClient>;
  stopping: boolean;
  restarts: number;
}

export function pluginDisabled(name: string): Conflict {
  return new Conflict('plugin.disabled', `plugin ${name} found but disabled`);
}

export class ManagedPlugins {
  private readonly running = new Map<string, Running>();
  /** One operation at a time per plugin (enable, disable, set, rm). */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(private readonly o: ManagedPluginsOptions) {}

  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.busy.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.busy.set(id, next);
    void next.finally(() => {
      if (this.busy.get(id) === next) this.busy.delete(id);
    }).catch(() => undefined);
    return next;
  }

  /** Loads the store, adopts plugin tasks that outlived the daemon, starts the other enabled plugins. */
  async init(): Promise<void> {
    await this.o.store.init();
    const alive = new Set<string>();
    for (const id of await this.o.runtime.list()) {
      const r = await this.o.runtime.restore(id);
      const p = this.o.store.find(id);
      if (r.state === 'alive' && p?.Enabled && p.Id === id) {
        alive.add(id);
        this.adopt(p, r.task);
        continue;
      }
      if (r.state === 'alive') {
        await r.task.killAll(SIGKILL).catch(cleanupFailed(this.o.log, 'kill a plugin task nobody owns', { id }));
        await r.task.wait().catch(() => undefined);
        await r.task.delete().catch(cleanupFailed(this.o.log, 'delete a plugin task nobody owns', { id }));
      }
    }
    for (const p of this.o.store.list()) {
      if (p.Enabled && !alive.has(p.Id)) this.launch(p, this.o.timeoutMs);
    }
  }

  list(filters: Map<string, string[]> = new Map()): PluginObject[] {
    for (const k of filters.keys()) if (k !== 'enabled' && k !== 'capability') throw new InvalidParameter('plugin.invalid_filter', `invalid filter '${k}'`);
    const enabled = filters.get('enabled');
    const caps = filters.get('capability');
    return this.o.store.list().filter((p) => {
      if (enabled?.length) {
        const want = enabled[enabled.length - 1];
        if (want !== 'true' && want !== 'false') throw new InvalidParameter('plugin.invalid_filter', `invalid filter 'enabled=${want}'`);
        if (p.Enabled !== (want === 'true')) return false;
      }
      if (caps?.length) {
        const have = p.Config.Interface.Types.map((t) => /^docker\.([a-z]+)\//.exec(t)?.[1] ?? t);
        if (!caps.some((c) => have.includes(c.toLowerCase()))) return false;
      }
      return true;
    });
  }

  inspect(ref: string): PluginObject {
    return this.o.store.get(ref);
  }

  /** `docker plugin create NAME DIR`: the body is a tar (maybe gzip) of config.json and rootfs/. */
  async create(name: string, tar: Readable): Promise<void> {
    const full = checkName(name);
    // the name is checked again once the body is read (install): answering before would cut the client's upload short
    const tmp = await this.o.store.tempDir();
    try {
      const unpacked = join(tmp, 'context');
      await mkdir(unpacked);
      const { stream } = await decompressed(tar);
      // the same checks as an image layer: no names or links leaving the directory, no writes through symlinks
      await applyLayer(stream, unpacked, { whiteouts: 'oci', ...(this.o.maxBytes ? { maxBytes: this.o.maxBytes } : {}) });
      const config = await readConfig(join(unpacked, 'config.json'));
      const rootfs = await stat(join(unpacked, 'rootfs')).catch(() => undefined);
      if (!rootfs?.isDirectory()) throw new InvalidParameter('plugin.invalid_config', 'no rootfs found in the plugin directory');
      await this.install(full, config, join(unpacked, 'rootfs'), tmp);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Records a plugin whose rootfs is unpacked at `rootfs` (inside `tmp`, the store's temp dir). */
  async install(name: string, config: PluginConfig, rootfs: string, tmp: string, reference?: string): Promise<PluginObject> {
    checkRunnable(config);
    if (this.o.store.byName(name)) throw new Conflict('plugin.exists', `plugin ${name} already exists`);
    const id = randomBytes(32).toString('hex');
    const dir = join(tmp, id);
    await mkdir(dir);
    await rename(rootfs, join(dir, 'rootfs'));
    const p: PluginObject = { Id: id, Name: name, Enabled: false, Settings: initialSettings(config), Config: config, ...(reference ? { PluginReference: reference } : {}) };
    await this.o.store.commit(dir, p);
    this.o.events?.publish('plugin', 'create', id, { name: name });
    return p;
  }

  /** Replaces a disabled plugin's config and rootfs (upgrade); settings start again from the new config. */
  async upgrade(id: string, config: PluginConfig, rootfs: string, reference: string): Promise<void> {
    checkRunnable(config);
    await this.serial(id, async () => {
      const cur = this.o.store.get(id);
      if (cur.Enabled) throw new Conflict('plugin.enabled', `plugin must be disabled before upgrading: plugin ${cur.Name} is enabled`);
      const old = `${this.o.store.rootfs(id)}.old`;
      await rm(old, { recursive: true, force: true });
      await rename(this.o.store.rootfs(id), old);
      await rename(rootfs, this.o.store.rootfs(id));
      await this.o.store.save({ ...cur, Config: config, Settings: initialSettings(config), PluginReference: reference });
      await rm(old, { recursive: true, force: true });
    });
  }

  async enable(ref: string, timeoutS?: number): Promise<void> {
    const p = this.o.store.get(ref);
    await this.serial(p.Id, async () => {
      const cur = this.o.store.get(p.Id);
      if (cur.Enabled) throw new Conflict('plugin.enabled', `plugin already enabled: plugin ${cur.Name} is enabled`);
      const timeoutMs = (timeoutS && timeoutS > 0 ? timeoutS : DEFAULT_ENABLE_TIMEOUT_S) * 1000;
      const r = this.launch(cur, timeoutMs);
      try {
        await r.ready;
      } catch (err) {
        await this.stop(cur.Id);
        throw err;
      }
      await this.o.store.save({ ...cur, Enabled: true });
      this.o.events?.publish('plugin', 'enable', cur.Id, { name: cur.Name });
    });
  }

  async disable(ref: string, force: boolean): Promise<void> {
    const p = this.o.store.get(ref);
    await this.serial(p.Id, async () => {
      const cur = this.o.store.get(p.Id);
      if (!cur.Enabled) throw new Conflict('plugin.disabled', `plugin is already disabled: plugin ${cur.Name} found but disabled`);
      if (!force && this.o.usersOf(cur.Name) > 0) throw new Conflict('plugin.in_use', `plugin ${cur.Name} is in use`);
      await this.o.store.save({ ...cur, Enabled: false });
      await this.stop(cur.Id);
      this.o.events?.publish('plugin', 'disable', cur.Id, { name: cur.Name });
    });
  }

  async remove(ref: string, force: boolean): Promise<void> {
    const p = this.o.store.get(ref);
    await this.serial(p.Id, async () => {
      const cur = this.o.store.get(p.Id);
      if (!force) {
        if (this.o.usersOf(cur.Name) > 0) throw new Conflict('plugin.in_use', `plugin ${cur.Name} is in use`);
        if (cur.Enabled) throw new Conflict('plugin.enabled', `plugin ${cur.Name} is enabled`);
      }
      await this.stop(cur.Id);
      await this.o.store.remove(cur.Id);
      this.o.events?.publish('plugin', 'remove', cur.Id, { name: cur.Name });
    });
  }

  async set(ref: string, pairs: string[]): Promise<void> {
    const p = this.o.store.get(ref);
    await this.serial(p.Id, async () => {
      const cur = this.o.store.get(p.Id);
      if (cur.Enabled) throw new Conflict('plugin.enabled', 'cannot set on an active plugin, disable plugin before setting');
      await this.o.store.save({ ...cur, Settings: applySettings(cur.Config, cur.Settings, pairs) });
    });
  }

  /** The registry's view: an enabled plugin of that name, once it answers. */
  async lookup(name: string): Promise<ActivePlugin | undefined> {
    const p = this.o.store.byName(name);
    if (!p) return undefined;
    if (!p.Enabled) throw pluginDisabled(p.Name);
    const r = this.running.get(p.Id);
    if (!r) throw new SystemError('plugin.not_running', `plugin ${p.Name} is not running`);
    return this.active(p, await r.ready);
  }

  /** Every enabled plugin that is up now (for `volume ls`: one that is starting is skipped, as a legacy one that fails). */
  async enabled(): Promise<ActivePlugin[]> {
    const out: ActivePlugin[] = [];
    for (const p of this.o.store.list()) {
      const client = p.Enabled ? this.running.get(p.Id)?.client : undefined;
      if (client) out.push(this.active(p, client));
    }
    return out;
  }

  readyNames(): ActivePlugin[] {
    return this.o.store.list().flatMap((p) => {
      const client = p.Enabled ? this.running.get(p.Id)?.client : undefined;
      return client ? [this.active(p, client)] : [];
    });
  }

  private active(p: PluginObject, client: PluginClient): ActivePlugin {
    const rootfs = this.o.store.rootfs(p.Id);
    const propagated = p.Config.PropagatedMount ? posix.resolve('/', p.Config.PropagatedMount) : undefined;
    const propagatedDir = this.propagatedDir(p.Id);
    return {
      name: p.Name, client, manifest: { Implements: implementsOf(p.Config) },
      // paths a plugin answers are inside its own root (moby's ScopedPath); `..` cannot climb out
      scopePath: (path: string) => {
        const clean = posix.resolve('/', path);
        if (propagated && (clean === propagated || clean.startsWith(`${propagated}/`))) return join(propagatedDir, clean.slice(propagated.length));
        return join(rootfs, clean);
      },
    };
  }

  /** Daemon shutdown: plugins stop with it unless they are to outlive it (live restore). */
  async shutdown(keepRunning: boolean): Promise<void> {
    const ids = [...this.running.keys()];
    if (keepRunning) {
      for (const id of ids) this.running.get(id)!.stopping = true;
      this.running.clear();
      return;
    }
    await Promise.all(ids.map((id) => this.stop(id)));
  }

  private propagatedDir(id: string): string {
    return join(this.o.store.dir(id), 'propagated-mount');
  }

  /** The host side of PropagatedMount: bound onto itself and made rshared, so mounts the plugin makes there reach the host. */
  private async sharePropagated(id: string): Promise<string> {
    const dir = this.propagatedDir(id);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (!(await mountsUnder(dir)).includes(dir)) await mount({ type: 'none', source: dir, options: ['bind'] }, dir);
    await run('mount', ['--make-rshared', dir]);
    return dir;
  }

  /** Unmounts what the plugin left under its propagated mount, then the mount itself (deepest first). */
  private async releasePropagated(id: string): Promise<void> {
    for (const m of await mountsUnder(this.propagatedDir(id))) {
      await unmount(m, true).catch(cleanupFailed(this.o.log, 'unmount a plugin propagated mount', { id, mount: m }));
    }
  }

  private socketDir(id: string): string {
    return join(this.o.socketRoot, id);
  }

  /** Starts the plugin's task; supervision restarts it when it dies while enabled. */
  private launch(p: PluginObject, timeoutMs: number): Running {
    const r: Running = { stopping: false, restarts: 0, ready: Promise.resolve(undefined as unknown as PluginClient) };
    this.running.set(p.Id, r);
    r.ready = this.startTask(p, r, timeoutMs);
    r.ready.catch((err: Error) => this.startFailed(p, r, err));
    return r;
  }

  /**
   * A start that failed: a task that never answered is killed (its exit then
   * restarts it through supervision); with no task, another start is tried
   * later. Either way only while the plugin is enabled and nobody stops it.
   */
  private startFailed(p: PluginObject, r: Running, err: Error): void {
    this.o.log.warn('plugin did not start', { plugin: p.Name, error: err.message });
    if (r.stopping || this.running.get(p.Id) !== r) return;
    if (r.task) void r.task.killAll(SIGKILL).catch(cleanupFailed(this.o.log, 'kill a plugin that did not answer', { id: p.Id }));
    else this.restartLater(p.Id, r);
  }

  private restartLater(id: string, r: Running): void {
    const pause = Math.min(RESTART_MIN_MS * 2 ** r.restarts, RESTART_MAX_MS);
    r.restarts++;
    setTimeout(() => {
      const p = this.o.store.find(id);
      // during `enable` the record still says disabled: enable owns that start
      if (r.stopping || this.running.get(id) !== r || !p?.Enabled) return;
      r.ready = this.startTask(p, r, this.o.timeoutMs);
      r.ready.catch((err: Error) => this.startFailed(p, r, err));
    }, pause).unref();
  }

  private adopt(p: PluginObject, task: Task): void {
    const r: Running = { stopping: false, restarts: 0, task, ready: Promise.resolve(undefined as unknown as PluginClient) };
    this.running.set(p.Id, r);
    drain(task, p.Name, this.o.log);
    r.ready = this.connectSocket(p, r, this.o.timeoutMs);
    r.ready.catch((err: Error) => this.startFailed(p, r, err));
    this.supervise(p.Id, r, task);
  }

  private async startTask(p: PluginObject, r: Running, timeoutMs: number): Promise<PluginClient> {
    const dir = this.socketDir(p.Id);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const spec = pluginSpec({
      plugin: p, rootfs: this.o.store.rootfs(p.Id), runtimeDir: dir,
      cgroupsPath: `${this.o.cgroupParent}/plugin-${p.Id}`, cgroupVersion: this.o.cgroupVersion,
      devices: await hostDevices(p.Settings.Devices.flatMap((d) => (d.Path ? [d.Path] : []))),
      ...(p.Config.PropagatedMount ? { propagatedMount: await this.sharePropagated(p.Id) } : {}),
    });
    const task = await this.o.runtime.create({ id: p.Id, spec, rootfs: [], terminal: false, stdin: false });
    r.task = task;
    drain(task, p.Name, this.o.log);
    try {
      await task.start();
    } catch (err) {
      await task.delete().catch(() => undefined);
      r.task = undefined;
      throw new SystemError('plugin.start_failed', `dial unix ${join(dir, p.Config.Interface.Socket)}: ${(err as Error).message}`);
    }
    this.supervise(p.Id, r, task);
    return this.connectSocket(p, r, timeoutMs);
  }

  private async connectSocket(p: PluginObject, r: Running, timeoutMs: number): Promise<PluginClient> {
    const sock = join(this.socketDir(p.Id), p.Config.Interface.Socket);
    const deadline = Date.now() + timeoutMs;
    let wait = 50;
    for (;;) {
      if (r.stopping) throw new SystemError('plugin.start_failed', `plugin ${p.Name} was stopped while starting`);
      if (await answers(sock)) break;
      if (Date.now() > deadline) throw new SystemError('plugin.start_failed', `failed to start plugin ${p.Name}: timeout waiting for its socket ${sock}`);
      await new Promise((res) => setTimeout(res, wait));
      wait = Math.min(wait * 2, 500);
    }
    const client = await PluginClient.connect({ name: p.Name, addr: `unix://${sock}` }, { timeoutMs: this.o.timeoutMs });
    r.client = client;
    r.restarts = 0;
    this.o.log.info('plugin started', { plugin: p.Name, id: p.Id, socket: sock });
    return client;
  }

  /** When the task ends on its own while the plugin is enabled, start it again (with a growing pause). */
  private supervise(id: string, r: Running, task: Task): void {
    void task.wait().then(async (exit) => {
      if (r.stopping || this.running.get(id) !== r || r.task !== task) return;
      r.client = undefined;
      r.task = undefined;
      await task.delete().catch(cleanupFailed(this.o.log, 'delete a dead plugin task', { id }));
      const p = this.o.store.find(id);
      if (!p?.Enabled || r.stopping) return;
      this.o.log.warn('plugin exited; starting it again', { plugin: p.Name, exitCode: exit.exitCode, restarts: r.restarts });
      this.restartLater(id, r);
    }, () => undefined);
  }

  /** SIGTERM, then SIGKILL after the grace period; removes the task and the socket directory. */
  private async stop(id: string): Promise<void> {
    const r = this.running.get(id);
    this.running.delete(id);
    if (r) {
      r.stopping = true;
      await r.ready.catch(() => undefined);
      const task = r.task;
      if (task) {
        await task.kill(SIGTERM).catch(() => undefined);
        const exited = await Promise.race([task.wait().then(() => true), new Promise<false>((res) => setTimeout(() => res(false), STOP_GRACE_MS).unref())]);
        if (!exited) {
          await task.killAll(SIGKILL).catch(cleanupFailed(this.o.log, 'kill a plugin', { id }));
          await task.wait().catch(() => undefined);
        }
        await task.delete().catch(cleanupFailed(this.o.log, 'delete a plugin task', { id }));
      }
    }
    await rm(this.socketDir(id), { recursive: true, force: true });
    await this.releasePropagated(id);
  }
}

/** moby's name rules for plugins: a reference name, stored with `:latest`. */
function checkName(name: string): string {
  if (!name || !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?$/.test(name.replace(/^[^/]+\.[^/]+\//, 'x/').replace(/^localhost(:\d+)?\//, 'x/').replace(/^[^/]+:\d+\//, 'x/'))) {
    throw new InvalidParameter('plugin.invalid_name', `invalid reference format: repository name (${name}) must be lowercase`);
  }
  if (/^[0-9a-f]{64}$/.test(name)) throw new InvalidParameter('plugin.invalid_name', `Invalid name: ${name}: cannot be a 64-byte hexadecimal string`);
  return withLatest(name);
}

async function readConfig(path: string): Promise<PluginConfig> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) throw new InvalidParameter('plugin.invalid_config', 'no config.json found in the plugin directory');
  if (s.size > MAX_CONFIG_BYTES) throw new InvalidParameter('plugin.invalid_config', 'invalid plugin config: config.json is too large');
  return parsePluginConfig(await readFile(path, 'utf8'));
}

/** Settings.Devices: host device nodes, given to the plugin at the same path. */
async function hostDevices(paths: string[]): Promise<{ path: string; type: 'c' | 'b'; major: number; minor: number }[]> {
  const out: { path: string; type: 'c' | 'b'; major: number; minor: number }[] = [];
  for (const path of paths) {
    const s = await stat(path, { bigint: true }).catch(() => undefined);
    if (!s || !(s.isCharacterDevice() || s.isBlockDevice())) throw new InvalidParameter('plugin.invalid_device', `error gathering device information while adding custom device "${path}": not a device node`);
    // glibc's gnu_dev_major/minor
    const major = Number(((s.rdev >> 8n) & 0xfffn) | ((s.rdev >> 32n) & ~0xfffn));
    const minor = Number((s.rdev & 0xffn) | ((s.rdev >> 12n) & ~0xffn));
    out.push({ path, type: s.isBlockDevice() ? 'b' : 'c', major, minor });
  }
  return out;
}

function answers(sock: string): Promise<boolean> {
  return new Promise((res) => {
    const c = connect(sock);
    c.once('connect', () => {
      c.destroy();
      res(true);
    });
    c.once('error', () => res(false));
  });
}

/** A plugin's output goes to the daemon's log (moby logs it with the plugin's id). */
function drain(task: Task, name: string, log: Logger): void {
  for (const s of [task.io.stdout, task.io.stderr]) {
    if (!s) continue;
    process.getBuiltinModule('node:readline').createInterface({ input: s }).on('line', (line) => log.debug('plugin output', { plugin: name, line })).on('error', () => undefined);
  }
}

export { noSuchPlugin };
