/**
 * Runtime over containerd-shim-runc-v2, driven directly over ttrpc (no
 * containerd). One shim per container; bundles live in <execRoot>/tasks/<id>
 * (the shim requires the bundle's basename to be the task id).
 *
 * Bundle layout:
 *   tasks/<id>/config.json        OCI runtime spec
 *   tasks/<id>/log                the shim's own log (a plain file: a FIFO would block it)
 *   tasks/<id>/address            written by the shim: its ttrpc socket
 *   tasks/<id>/init-{stdin,stdout,stderr}, exec-<eid>-*   FIFOs
 *   (the container's rootfs is mounted by berthd before Create, at the spec's root.path;
 *    Create's rootfs list is empty, so the shim mounts nothing)
 */
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { ExecError, run } from '../../../lib/exec.js';
import { span } from '../../../lib/spans.js';
import type { ExitStatus, RestoreResult, Runtime, RuntimeEvents, Task, TaskOptions } from '../runtime.js';
import { RuntimeStartError } from '../runtime.js';
import * as M from './messages.js';
import { decode } from './protobuf.js';
import { FifoPool } from './fifo-pool.js';
import { closeIO, fifoList, fifoPaths, ioFor, openReaders, ShimTask, toDate } from './shim-process.js';
import { serveTtrpc, TtrpcClient, TtrpcError } from './ttrpc.js';
import { cleanupFailed, type Logger } from '../../../lib/logger.js';

export interface ShimRuntimeOptions {
  execRoot: string;
  /** containerd namespace: separates our runc state from any containerd's. */
  namespace: string;
  shimBinary: string;
  events?: RuntimeEvents;
  /** Debug lines for cleanup steps that failed. */
  log?: Logger;
}

/** The annotation containerd-shim-runc-v2's `start` reads to put a task in an existing shim (runc v2 manager's groupLabels). */
export const SHIM_GROUP_ANNOTATION = 'io.containerd.runc.v2.group';

/** The group a spec names, if it is another task's: the shim is then shared. */
function sharedGroupOf(spec: { annotations?: Record<string, string> }, id: string): string | undefined {
  const g = spec.annotations?.[SHIM_GROUP_ANNOTATION];
  return g && g !== id ? g : undefined;
}

/** How long a delete waits for the shim to exit after its Shutdown answer. */
const SHIM_EXIT_WAIT_MS = 2_000;
const SHIM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class ShimRuntime implements Runtime {
  private readonly tasksDir: string;
  /** Hashed by the shim into its socket name; stable for this exec root, so restarts find the shims. */
  private readonly address: string;
  private readonly eventsSocket: string;
  private eventsServer: Server | undefined;
  /** The shims' connections to the events socket: a shim keeps its own open as long as it lives. */
  private readonly eventConnections = new Set<Socket>();
  /** Shims started ahead of Create (see `prepare`). */
  private readonly warm = new Map<string, Promise<TtrpcClient>>();
  /** Tasks prepared into another task's shim, by id: the group (that task's id). */
  private readonly groups = new Map<string, string>();
  private readonly fifos: FifoPool;
  private readonly makeFifos = (paths: string[]) => this.fifos.take(paths);

  constructor(private readonly opts: ShimRuntimeOptions) {
    this.tasksDir = join(opts.execRoot, 'tasks');
    this.address = `berth:${opts.execRoot}`;
    this.eventsSocket = join(opts.execRoot, 'events.sock');
    this.fifos = new FifoPool(join(opts.execRoot, 'fifos'));
  }

  /** Listens for the shims' events (exit, OOM) before any shim is started or restored. */
  async init(): Promise<void> {
    await mkdir(this.tasksDir, { recursive: true });
    await this.fifos.init();
    await rm(this.eventsSocket, { force: true });
    this.eventsServer = await serveTtrpc(this.eventsSocket, (_service, _method, payload) => {
      this.dispatchEvent(payload);
      return Buffer.alloc(0);
    });
    this.eventsServer.on('connection', (socket: Socket) => {
      this.eventConnections.add(socket);
      socket.once('close', () => this.eventConnections.delete(socket));
    });
  }

  private dispatchEvent(payload: Buffer): void {
    const req = decode(M.ForwardRequest, payload) as { envelope?: { topic: string; event?: { value: Buffer } } };
    const env = req.envelope;
    if (env?.topic === '/tasks/oom' && env.event) {
      const oom = decode(M.TaskOOM, env.event.value) as { containerId: string };
      this.opts.events?.onOom?.(oom.containerId);
    }
    // exits are observed through Wait, which survives lost events
  }

  private bundleOf(id: string): string {
    return join(this.tasksDir, id);
  }

  private shimArgs(id: string, action: 'start' | 'delete'): string[] {
    return ['-namespace', this.opts.namespace, '-address', this.address, '-publish-binary', '/bin/true', '-id', id, action];
  }

  private shimEnv(): NodeJS.ProcessEnv {
    return { PATH: SHIM_PATH, TTRPC_ADDRESS: this.eventsSocket };
  }

  /** Starts the shim for `id` now; `create` will use it. */
  prepare(id: string, group?: string): void {
    if (this.warm.has(id)) return;
    if (group && group !== id) this.groups.set(id, group);
    const started = span('shim start', () => this.startShim(id));
    started.catch(() => {}); // create (or discard) reports the failure
    this.warm.set(id, started);
  }

  async discard(id: string): Promise<void> {
    const started = this.warm.get(id);
    this.warm.delete(id);
    if (!started) return;
    this.groups.delete(id);
    const client = await started.catch(() => undefined);
    if (client) await this.shutdown(id, client);
    else await rm(this.bundleOf(id), { recursive: true, force: true });
  }

  /**
   * Bundle dir with its `log` file, `shim start`, connection. `start` only
   * reads config.json for grouping annotations, so a stub stands in until
   * `create` writes the real spec. `create` renames the spec in while this
   * runs: the stub is written only where no spec is yet (`wx`), never over it.
   */
  private async startShim(id: string): Promise<TtrpcClient> {
    const bundle = this.bundleOf(id);
    await mkdir(bundle, { recursive: true });
    // a grouped task's stub names its group: `shim start` then answers the group's running shim
    const group = this.groups.get(id);
    const stubSpec = group ? JSON.stringify({ annotations: { [SHIM_GROUP_ANNOTATION]: group } }) : '{}';
    const stub = writeFile(join(bundle, 'config.json'), stubSpec, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await Promise.all([writeFile(join(bundle, 'log'), ''), stub]);
    const joined = group ? await this.joinGroupShim(bundle, group) : undefined;
    if (joined) return joined;
    const { stdout } = await run(this.opts.shimBinary, this.shimArgs(id, 'start'), { cwd: bundle, env: this.shimEnv(), detached: true });
    return TtrpcClient.connect(socketPathOf(stdout));
  }

  /**
   * A grouped task connects to its group's running shim itself: for a group
   * whose shim listens, `shim start` only writes that shim's address into
   * the bundle and prints it (runc v2 manager's Start), at the cost of a Go
   * program's start. A group shim that is gone: undefined, `shim start` decides.
   */
  private async joinGroupShim(bundle: string, group: string): Promise<TtrpcClient | undefined> {
    try {
      const address = await readFile(join(this.bundleOf(group), 'address'), 'utf8');
      const client = await TtrpcClient.connect(socketPathOf(address));
      await writeFile(join(bundle, 'address'), address).catch((err: unknown) => {
        client.close();
        throw err;
      });
      return client;
    } catch {
      return undefined;
    }
  }

  async create(t: TaskOptions): Promise<Task> {
    const bundle = this.bundleOf(t.id);
    const started = this.warm.get(t.id) ?? this.startShim(t.id);
    this.warm.delete(t.id);
    const group = this.groups.get(t.id);
    this.groups.delete(t.id);
    // the real spec keeps the group, for a `shim start` that reads it rather than the stub
    const spec = group ? { ...t.spec, annotations: { ...(t.spec.annotations ?? {}), [SHIM_GROUP_ANNOTATION]: group } } : t.spec;
    const fifos = fifoPaths(bundle, 'init', t.terminal, t.stdin);
    let readers: Awaited<ReturnType<typeof openReaders>> | undefined;
    let client: TtrpcClient | undefined;
    try {
      await mkdir(bundle, { recursive: true });
      // by rename: a `shim start` still reading the stub must never see a half-written spec
      const specTmp = join(bundle, 'config.json.tmp');
      await Promise.all([writeFile(specTmp, JSON.stringify(spec)).then(() => rename(specTmp, join(bundle, 'config.json'))), this.makeFifos(fifoList(fifos))]);
      readers = await openReaders(fifos);
      client = await span('await shim', () => started);
      let pid: number;
      try {
        ({ pid } = await client.call<{ pid: number }>(M.TASK_SERVICE, 'Create', M.CreateTaskRequest, {
          id: t.id,
          bundle,
          rootfs: t.rootfs,
          terminal: t.terminal,
          stdin: fifos.stdin ?? '',
          stdout: fifos.stdout,
          stderr: fifos.stderr ?? '',
        }, M.PidResponse));
      } catch (err) {
        throw err instanceof TtrpcError ? new RuntimeStartError(err.message) : err;
      }
      const io = ioFor(fifos, readers);
      const c = client;
      return new ShimTask(c, t.id, pid, io, bundle, () => this.shutdown(t.id, c), this.makeFifos);
    } catch (err) {
      if (readers) closeIO(readers);
      client ??= await started.catch(() => undefined);
      if (client) await this.shutdown(t.id, client).catch(cleanupFailed(this.opts.log, 'shut down the shim of a failed create', { id: t.id }));
      else await rm(bundle, { recursive: true, force: true });
      throw err;
    }
  }

  /** Ends the shim (a no-op for the shim while it still tracks a task) and removes the bundle. */
  private async shutdown(id: string, client: TtrpcClient): Promise<void> {
    // read from the bundle, so that it holds after a daemon restart too
    const spec = await readFile(join(this.bundleOf(id), 'config.json'), 'utf8').then((s) => JSON.parse(s) as { annotations?: Record<string, string> }, () => ({}));
    const shared = sharedGroupOf(spec, id) !== undefined;
    try {
      await client.call(M.TASK_SERVICE, 'Shutdown', M.ShutdownRequest, { id }, M.Empty);
    } catch {
      // the shim exits while answering: a closed connection is success
    }
    // the shim answers Shutdown, then exits: the task is gone only once the shim is
    // (a shim shared with the group's own task lives on: nothing to wait for)
    if (!shared) await client.whenClosed(SHIM_EXIT_WAIT_MS);
    client.close();
    await rm(this.bundleOf(id), { recursive: true, force: true });
  }

  async restore(id: string): Promise<RestoreResult> {
    const bundle = this.bundleOf(id);
    let client: TtrpcClient;
    try {
      const address = await readFile(join(bundle, 'address'), 'utf8');
      client = await TtrpcClient.connect(socketPathOf(address));
      await client.call(M.TASK_SERVICE, 'Connect', M.ConnectRequest, { id }, M.ConnectResponse);
    } catch {
      return { state: 'gone', exit: await this.cleanupDeadShim(id) };
    }
    let state: { pid: number; status: number; exitStatus: number; exitedAt: { seconds: number; nanos: number }; terminal: boolean };
    try {
      state = await client.call(M.TASK_SERVICE, 'State', M.StateRequest, { id }, M.StateResponse);
    } catch (err) {
      if (!(err instanceof TtrpcError)) {
        client.close();
        throw err;
      }
      // a live shim without a task: started for a create that never happened
      await client.call(M.TASK_SERVICE, 'Shutdown', M.ShutdownRequest, { id }, M.Empty).catch(cleanupFailed(this.opts.log, 'shut down a shim without a task', { id }));
      client.close();
      return { state: 'gone', exit: await this.cleanupDeadShim(id) };
    }
    const names = await readdir(bundle);
    const fifos = fifoPaths(bundle, 'init', state.terminal, names.includes('init-stdin'));
    const readers = await openReaders(fifos);
    const task = new ShimTask(client, id, state.pid, ioFor(fifos, readers), bundle, () => this.shutdown(id, client), this.makeFifos);
    return { state: 'alive', task };
  }

  /** The shim died: let a fresh shim binary `delete` the task (runc delete --force, unmount). */
  private async cleanupDeadShim(id: string): Promise<ExitStatus> {
    const bundle = this.bundleOf(id);
    let exit: ExitStatus = { exitCode: 255, exitedAt: new Date() };
    // no bundle (never created, or /run was emptied by a reboot): nothing for a shim to delete
    if (!(await access(bundle).then(() => true, () => false))) return exit;
    try {
      const { stdoutBytes } = await run(this.opts.shimBinary, this.shimArgs(id, 'delete'), { cwd: bundle, env: this.shimEnv() });
      const r = decode(M.DeleteResponse, stdoutBytes) as { exitStatus: number; exitedAt: { seconds: number; nanos: number } };
      exit = { exitCode: r.exitStatus, exitedAt: toDate(r.exitedAt) };
    } catch (err) {
      if (!(err instanceof ExecError)) throw err;
    }
    await rm(bundle, { recursive: true, force: true });
    return exit;
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.tasksDir)).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch {
      return [];
    }
  }

  /** Stops listening for events; the shims (and their tasks) live on, and reconnect to the next daemon. */
  async close(): Promise<void> {
    const closed = new Promise<void>((r) => (this.eventsServer ? this.eventsServer.close(() => r()) : r()));
    // server.close waits for every connection to end, and a live shim never ends its own
    for (const socket of this.eventConnections) socket.destroy();
    await closed;
  }
}

function socketPathOf(address: string): string {
  return address.trim().replace(/^unix:\/\//, '');
}
