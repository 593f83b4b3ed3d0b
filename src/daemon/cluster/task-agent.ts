/**
 * The agent on every node (managers too): runs the tasks assigned to this
 * node through the node's own containers and reports their status back.
 *
 *   const agent = new TaskAgent(store, nodeId, containers, { log });
 *   agent.start();   // watch tasks, act, report
 *   await agent.stop();
 *
 * Each pass reads the tasks and this node's task containers and, per task:
 * desired running and no container → pull the image if missing, create,
 * start, report running (or rejected with the error); desired ready (a
 * replacement that waits) → the same without the start, report ready; a container that
 * exited → complete or failed (its exit code); desired shutdown → stop,
 * report shutdown; desired remove → stop and remove. A container whose task
 * is gone is removed. A pass runs on every change to the tasks and every
 * few seconds, and at start: after a daemon restart the containers that
 * kept running are matched to their tasks again.
 *
 * Status writes are transactions on the task's revision, read again and
 * retried when the leader changed the task in between; a state never moves
 * backwards.
 */
import type { ContainerCreateRequest, MountSpec } from '../../api/types/index.js';
import { stateRank, TASKS_PREFIX, taskKey, containerName, type TaskRecord, type TaskStatus } from './service-records.js';
import type { ClusterStore } from './store.js';
import { taskContainerRequest, taskImage } from './task-container.js';

export interface TaskContainer {
  id: string;
  taskId: string;
  running: boolean;
  /** Started at least once (a created container that never ran is not an exit). */
  started: boolean;
  exitCode: number;
  pid: number;
  /** Its healthcheck's status, when it has one (the image's or the task's). */
  health?: 'starting' | 'healthy' | 'unhealthy';
}

/** What the agent uses of the node's container service. */
export interface TaskContainers {
  /** Resolves once the daemon has restored its containers' state (at start-up): no pass before. */
  ready(): Promise<void>;
  /** Containers carrying the task id label. */
  list(): TaskContainer[];
  /** Pulls the image if this node has it not; returns the reference to create the container from. */
  ensureImage(ref: string): Promise<string>;
  /** Makes the task's secrets and configs (tmpfs) and returns the binds that show them; none if it references none. */
  prepareFiles?(t: TaskRecord): Promise<MountSpec[]>;
  /** Removes them, once the task's container is gone. */
  cleanupFiles?(taskId: string): Promise<void>;
  create(req: ContainerCreateRequest, name: string): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Called when a task container exits or its health changes; returns an unsubscribe function. */
  onExit(fn: (containerId: string) => void): () => void;
}

export class TaskAgent {
  private ctl: AbortController | undefined;
  private readonly busy = new Set<string>();
  private kickTimer: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private passing: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: Pick<ClusterStore, 'get' | 'list' | 'txn' | 'watch'>,
    private readonly nodeId: string,
    private readonly containers: TaskContainers,
    private readonly o: { log: (msg: string, f?: Record<string, unknown>) => void; tickMs?: number },
  ) {}

  start(): void {
    if (this.ctl) return;
    const ctl = new AbortController();
    this.ctl = ctl;
    this.unsubscribe = this.containers.onExit(() => this.kick());
    this.tick = setInterval(() => this.kick(), this.o.tickMs ?? 3000);
    this.tick.unref();
    void this.watch(ctl.signal);
    this.kick();
  }

  async stop(): Promise<void> {
    this.ctl?.abort();
    this.ctl = undefined;
    this.unsubscribe?.();
    clearInterval(this.tick);
    clearTimeout(this.kickTimer);
    await this.passing?.catch(() => {});
  }

  private async watch(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const e of this.store.watch(TASKS_PREFIX, { signal })) {
          void e;
          this.kick();
        }
      } catch {
        // etcd3 resumes a watch itself; one that fails outright is opened again, not in a tight loop
      }
      if (!signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private kick(): void {
    if (!this.ctl || this.kickTimer) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      if (this.passing) { this.again = true; return; }
      this.passing = this.pass().catch((err: Error) => this.o.log('agent: pass failed', { error: err.message })).finally(() => {
        this.passing = undefined;
        if (this.again) { this.again = false; this.kick(); }
      });
    }, 100);
  }

  async pass(): Promise<void> {
    await this.containers.ready();
    const { items } = await this.store.list(TASKS_PREFIX);
    const tasks = items.map((kv) => JSON.parse(kv.value) as TaskRecord);
    const known = new Set(tasks.map((t) => t.id));
    const byTask = new Map(this.containers.list().map((c) => [c.taskId, c]));
    for (const t of tasks) {
      if (t.nodeId !== this.nodeId || this.busy.has(t.id)) continue;
      const c = byTask.get(t.id);
      const step = this.decide(t, c);
      if (!step) continue;
      this.busy.add(t.id);
      void step().catch((err: Error) => this.o.log('agent: task step failed', { task: t.id, error: err.message })).finally(() => this.busy.delete(t.id));
    }
    for (const [taskId, c] of byTask) {
      if (known.has(taskId) || this.busy.has(taskId)) continue;
      // its task was deleted (history reaped, service removed): the container goes too
      this.busy.add(taskId);
      void this.containers.remove(c.id).then(() => this.containers.cleanupFiles?.(taskId)).catch(() => {}).finally(() => this.busy.delete(taskId));
    }
  }

  /** The one thing to do for this task now, if any. */
  private decide(t: TaskRecord, c: TaskContainer | undefined): (() => Promise<void>) | undefined {
    const rank = stateRank(t.status.state);
    if (t.desiredState === 'ready') {
      // a replacement waiting for its restart delay or its predecessor's stop: create, do not start
      if (!c && rank >= stateRank('assigned') && rank < stateRank('ready')) return () => this.run(t, false);
      return undefined;
    }
    if (t.desiredState === 'running') {
      if (rank > stateRank('running')) return undefined;
      if (!c) {
        if (rank >= stateRank('assigned') && rank <= stateRank('starting')) return () => this.run(t);
        if (t.status.state === 'running') return () => this.report(t.id, { state: 'failed', message: 'started', err: 'task: container removed' });
        return undefined;
      }
      if (c.running) {
        // moby's executor: a container with a healthcheck is started only once healthy; unhealthy fails the task
        if (c.health === 'unhealthy') return () => this.failUnhealthy(t, c);
        if (c.health === 'starting' || t.status.state === 'running') return undefined;
        return () => this.report(t.id, running(c));
      }
      if (c.started) return () => this.report(t.id, exited(c));
      return () => this.startExisting(t, c);
    }
    // shutdown or remove
    if (c?.running) return async () => {
      await this.containers.stop(c.id);
      if (t.desiredState === 'remove') await this.remove(t.id, c.id);
      await this.report(t.id, { state: 'shutdown', message: 'shutdown' });
    };
    if (c && t.desiredState === 'remove') return async () => {
      await this.remove(t.id, c.id);
      await this.report(t.id, { state: 'shutdown', message: 'shutdown' });
    };
    if (rank < stateRank('shutdown')) return () => this.report(t.id, { state: 'shutdown', message: 'shutdown' });
    return undefined;
  }

  private async remove(taskId: string, containerId: string): Promise<void> {
    await this.containers.remove(containerId);
    await this.containers.cleanupFiles?.(taskId);
  }

  private async run(t: TaskRecord, start = true): Promise<void> {
    await this.report(t.id, { state: 'preparing', message: 'preparing' });
    let id: string;
    try {
      const image = await this.containers.ensureImage(taskImage(t));
      const files = (await this.containers.prepareFiles?.(t)) ?? [];
      const req = taskContainerRequest(t, this.nodeId);
      const mounts = [...(req.HostConfig?.Mounts ?? []), ...files];
      id = await this.containers.create({ ...req, Image: image, HostConfig: { ...req.HostConfig, ...(mounts.length ? { Mounts: mounts } : {}) } }, containerName(t));
    } catch (err) {
      await this.containers.cleanupFiles?.(t.id).catch(() => {});
      await this.report(t.id, { state: 'rejected', message: 'preparing', err: (err as Error).message });
      return;
    }
    if (!start) return this.report(t.id, { state: 'ready', message: 'prepared', containerStatus: { containerId: id } });
    await this.startExisting(t, { id, taskId: t.id, running: false, started: false, exitCode: 0, pid: 0 });
  }

  private async startExisting(t: TaskRecord, c: TaskContainer): Promise<void> {
    await this.report(t.id, { state: 'starting', message: 'starting', containerStatus: { containerId: c.id } });
    try {
      await this.containers.start(c.id);
    } catch (err) {
      await this.report(t.id, { state: 'rejected', message: 'starting', err: (err as Error).message, containerStatus: { containerId: c.id } });
      return;
    }
    const now = this.containers.list().find((x) => x.id === c.id);
    if (now && !now.running) return this.report(t.id, exited(now));
    // with a healthcheck the task stays starting until a probe passes (the next passes look again)
    if (now?.health === 'starting' || now?.health === 'unhealthy') return;
    await this.report(t.id, running(now ?? c));
  }

  private async failUnhealthy(t: TaskRecord, c: TaskContainer): Promise<void> {
    await this.containers.stop(c.id);
    await this.report(t.id, { state: 'failed', message: 'started', err: UNHEALTHY, containerStatus: { containerId: c.id, exitCode: this.containers.list().find((x) => x.id === c.id)?.exitCode ?? 0 } });
  }

  /** Writes the task's status if it moves it forward; reads again and retries when the task changed meanwhile. */
  private async report(taskId: string, s: Omit<TaskStatus, 'timestamp'>): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const kv = await this.store.get(taskKey(taskId));
      if (!kv) return;
      const t = JSON.parse(kv.value) as TaskRecord;
      if (t.nodeId !== this.nodeId || stateRank(s.state) < stateRank(t.status.state)) return;
      if (s.state === t.status.state && s.message === t.status.message && s.err === t.status.err) return;
      const now = new Date().toISOString();
      const next: TaskRecord = { ...t, updatedAt: now, ...(s.state === 'running' && !t.runningAt ? { runningAt: now } : {}), status: { ...s, timestamp: now, ...(s.containerStatus ?? t.status.containerStatus ? { containerStatus: s.containerStatus ?? t.status.containerStatus } : {}) } };
      const r = await this.store.txn({ compare: [{ key: kv.key, modRevision: kv.modRevision }], success: [{ put: kv.key, value: JSON.stringify(next) }] });
      if (r.succeeded) return;
    }
  }
}

/** moby's ErrContainerUnhealthy, as the task's Err. */
const UNHEALTHY = 'dockerexec: unhealthy container';

function running(c: TaskContainer): Omit<TaskStatus, 'timestamp'> {
  return { state: 'running', message: 'started', containerStatus: { containerId: c.id, pid: c.pid, exitCode: 0 } };
}

function exited(c: TaskContainer): Omit<TaskStatus, 'timestamp'> {
  return c.exitCode === 0
    ? { state: 'complete', message: 'finished', containerStatus: { containerId: c.id, exitCode: 0 } }
    : { state: 'failed', message: 'started', err: `task: non-zero exit (${c.exitCode})`, containerStatus: { containerId: c.id, exitCode: c.exitCode } };
}
