/**
 * The orchestrator: (services, tasks, nodes, now) → the task writes that
 * bring each service toward its spec. Pure; reconciler.ts reads the store,
 * calls it, and writes each service's decisions in one transaction on the
 * revisions read here.
 *
 * Replicated: slots 1..N. A slot is held by its live task (desired running,
 * or ready: waiting to start). Missing slots get a new pending task; slots
 * above N are removed (scale down). A live task that ended (failed,
 * complete, rejected) is shut down at once and, when its restart policy
 * says so (restart-policy.ts), replaced in its slot by a task desired ready
 * that is set running once the delay has passed; one on a node that is
 * down, drained or gone is shut down and replaced. A live task made
 * from an older spec is replaced by the rolling update (rollingUpdate
 * below: parallelism, delay, order, monitor, failure action).
 *
 * Global: one live task per node that is ready, active and meets the
 * constraints; a task on a node that stops qualifying is shut down.
 *
 * Tasks whose service is gone are set to remove. History: per slot (or
 * node) only the newest `historyLimit` tasks are kept (swarmkit's task
 * reaper), and removed tasks whose container is gone are deleted.
 */
import type { TaskState } from '../../api/types/index.js';
import { constraintsMatch, parseConstraints, type NodeInfo } from './placement.js';
import { endedByItself, restartAt, restartsAfter } from './restart-policy.js';
import { hostModePorts, isGlobal, isLive, isTerminal, replicasOf, type ServiceRecord, type TaskRecord } from './service-records.js';
import { activePolicy } from './update-policy.js';

export interface Versioned<T> {
  record: T;
  modRevision: number;
}

export interface OrchestratorInput {
  services: Versioned<ServiceRecord>[];
  tasks: Versioned<TaskRecord>[];
  nodes: NodeInfo[];
  /** The swarm's TaskHistoryRetentionLimit. */
  historyLimit: number;
  now: number;
  newId: () => string;
}

/** One service's decisions: written together, or not at all. */
export interface ServicePlan {
  serviceId: string;
  /** The service key's modRevision read (0: the service is gone). */
  serviceRevision: number;
  creates: TaskRecord[];
  updates: Versioned<TaskRecord>[];
  deletes: { id: string; modRevision: number }[];
  /** The service record rewritten (its UpdateStatus, or an automatic rollback's spec). */
  service?: ServiceRecord;
}

export interface OrchestratorResult {
  plans: ServicePlan[];
  /** When a restart delay ends: reconcile again then (ms since epoch). */
  wakeAt?: number;
}

/** swarmkit's restart supervisor starts a replacement anyway when its predecessor has not stopped within a minute. */
const OLD_TASK_TIMEOUT_MS = 60_000;

/** Where a new task goes and, for a restart or a stop-first replacement, that it waits (desired `ready`). */
interface Placement {
  slot?: number;
  nodeId?: string;
  ready?: { startAfter: number; restarts?: string[] };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function newTask(s: ServiceRecord, id: string, now: number, where: Placement): TaskRecord {
  const { ready, ...at } = where;
  return {
    id, serviceId: s.id, serviceName: s.spec.Name ?? s.id, ...at, desiredState: ready ? 'ready' : 'running',
    ...(ready ? { startAfter: iso(Math.max(now, ready.startAfter)), ...(ready.restarts ? { restarts: ready.restarts } : {}) } : {}),
    status: { state: 'pending', message: 'pending task scheduling', timestamp: iso(now) },
    spec: structuredClone(s.spec.TaskTemplate ?? {}), specVersion: s.specVersion, createdAt: iso(now), updatedAt: iso(now),
    ...(hostModePorts(s.spec).length ? { hostPorts: hostModePorts(s.spec) } : {}),
    ...(s.ingressNetworkId ? { ingressNetworkId: s.ingressNetworkId } : {}),
  };
}

function withDesired(t: TaskRecord, desired: TaskState, now: number, status?: Partial<TaskRecord['status']>): TaskRecord {
  return { ...t, desiredState: desired, updatedAt: iso(now), status: status ? { ...t.status, ...status, timestamp: iso(now) } : t.status };
}

export function orchestrate(input: OrchestratorInput): OrchestratorResult {
  const { now } = input;
  const nodes = new Map(input.nodes.map((n) => [n.id, n]));
  const byService = new Map<string, Versioned<TaskRecord>[]>();
  for (const t of input.tasks) {
    const list = byService.get(t.record.serviceId) ?? [];
    list.push(t);
    byService.set(t.record.serviceId, list);
  }
  const plans: ServicePlan[] = [];
  let wakeAt: number | undefined;
  const wake = (at: number) => { wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at); };

  const services = new Map(input.services.map((s) => [s.record.id, s]));
  for (const [serviceId, tasks] of byService) {
    if (services.has(serviceId)) continue;
    const plan: ServicePlan = { serviceId, serviceRevision: 0, creates: [], updates: [], deletes: [] };
    for (const t of tasks) {
      const node = t.record.nodeId ? nodes.get(t.record.nodeId) : undefined;
      if (isTerminal(t.record.status.state) || !node || !node.ready) plan.deletes.push({ id: t.record.id, modRevision: t.modRevision });
      else if (t.record.desiredState !== 'remove') plan.updates.push({ record: withDesired(t.record, 'remove', now), modRevision: t.modRevision });
    }
    if (plan.updates.length || plan.deletes.length) plans.push(plan);
  }

  for (const svc of input.services) {
    const s = svc.record;
    const tasks = byService.get(s.id) ?? [];
    const plan: ServicePlan = { serviceId: s.id, serviceRevision: svc.modRevision, creates: [], updates: [], deletes: [] };
    const global = isGlobal(s.spec);
    const constraints = safeConstraints(s.spec.TaskTemplate?.Placement?.Constraints ?? []);
    // a paused node keeps its tasks but gets no new one
    const qualifies = (n: NodeInfo | undefined) => !!n && n.ready && n.availability !== 'drain' && constraintsMatch(constraints, n);
    const eligible = (n: NodeInfo | undefined) => qualifies(n) && n!.availability === 'active';
    const slotOf = (t: TaskRecord) => (global ? t.nodeId ?? '' : String(t.slot ?? 0));
    const bySlot = new Map<string, TaskRecord[]>();
    for (const t of tasks) bySlot.set(slotOf(t.record), [...(bySlot.get(slotOf(t.record)) ?? []), t.record]);
    const rev = new Map(tasks.map((t) => [t.record.id, t.modRevision]));
    const update = (t: TaskRecord, desired: TaskState, status?: Partial<TaskRecord['status']>) => {
      plan.updates.push({ record: withDesired(t, desired, now, status), modRevision: rev.get(t.id)! });
    };
    const occupied = new Set<string>();
    const holder = new Map<string, TaskRecord>();
    const replace: Placement[] = [];
    let outdated: TaskRecord[] = [];
    const touched = (t: TaskRecord) => plan.updates.some((u) => u.record.id === t.id);
    const at = (t: TaskRecord): Placement => (global ? { nodeId: t.nodeId! } : { slot: t.slot! });
    /** The replacement of a task that ended on its own (desired ready until its delay passed), or none. */
    const restartOf = (t: TaskRecord): Placement | undefined => {
      const when = restartAt(s, t, now);
      return when === 'never' ? undefined : { ...at(t), ready: { startAfter: when, restarts: restartsAfter(s, t, now) } };
    };
    /** A task of the slot the managers stopped that has not stopped yet: a waiting replacement must not start. */
    const stopping = (slot: string, self: TaskRecord) => (bySlot.get(slot) ?? []).some((o) => o.id !== self.id && !isLive(o)
      && !isTerminal(o.status.state) && !!o.nodeId && !!nodes.get(o.nodeId)?.ready);

    /** A waiting task starts once its delay passed and the slot's stopped tasks have stopped. */
    const promote = (t: TaskRecord, slot: string) => {
      if (t.desiredState !== 'ready') return;
      const startAfter = Date.parse(t.startAfter ?? t.createdAt);
      const giveUp = Date.parse(t.createdAt) + OLD_TASK_TIMEOUT_MS;
      if (startAfter > now) wake(startAfter);
      else if (!stopping(slot, t) || giveUp <= now) update(t, 'running');
      else wake(giveUp);
    };

    const live = tasks.map((t) => t.record).filter(isLive)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const t of live) {
      const node = t.nodeId ? nodes.get(t.nodeId) : undefined;
      const slot = slotOf(t);
      if (occupied.has(slot)) {
        const first = holder.get(slot);
        // start-first: the new task runs beside the old one; the old goes once the new one runs
        if (!first || first.specVersion === s.specVersion || t.specVersion !== s.specVersion || touched(first)) {
          update(t, 'shutdown');
          continue;
        }
        outdated = outdated.filter((o) => o.id !== first.id);
        if (t.status.state === 'running') update(first, 'shutdown');
        holder.set(slot, t);
        if (isTerminal(t.status.state)) {
          update(t, 'shutdown');
          const r = restartOf(t);
          if (r) replace.push(r);
        } else promote(t, slot);
        continue;
      }
      holder.set(slot, t);
      if (t.nodeId && (!node || !node.ready || node.availability === 'drain' || (global && !qualifies(node)))) {
        // its node is down, drained, gone (or, global, no longer qualifies): shut down, replaced elsewhere
        update(t, 'shutdown', node && !node.ready ? { state: 'orphaned', message: 'task belongs to a node that is down' } : undefined);
        if (!global) { occupied.add(slot); replace.push({ slot: t.slot! }); }
        continue;
      }
      occupied.add(slot);
      if (isTerminal(t.status.state)) {
        // swarmkit: shut down at once; the replacement waits (desired ready) for the restart delay
        update(t, 'shutdown');
        const r = restartOf(t);
        if (r) replace.push(r);
        continue;
      }
      promote(t, slot);
      if (t.specVersion !== s.specVersion) outdated.push(t);
    }

    /**
     * A slot with no live task: filled now, unless its last task ended on its own on the current
     * spec and the restart policy says wait or never (a new spec, e.g. `update --force`, starts afresh).
     */
    const refill = (slot: string, where: Placement) => {
      const last = (bySlot.get(slot) ?? []).filter((t) => t.desiredState === 'shutdown' && !touched(t))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
      if (!last || !endedByItself(last) || last.specVersion !== s.specVersion) return void replace.push(where);
      const r = restartOf(last);
      if (r) replace.push(r);
    };
    if (global) {
      for (const n of input.nodes) if (eligible(n) && !occupied.has(n.id)) refill(n.id, { nodeId: n.id });
    } else {
      const replicas = replicasOf(s.spec);
      for (let i = 1; i <= replicas; i++) if (!occupied.has(String(i))) refill(String(i), { slot: i });
      // scale down: every live task above the replica count goes, highest slot first
      const extras = live.filter((t) => (t.slot ?? 0) > replicas && !plan.updates.some((u) => u.record.id === t.id))
        .sort((a, b) => (b.slot ?? 0) - (a.slot ?? 0));
      for (const t of extras) update(t, 'remove');
      outdated = outdated.filter((t) => (t.slot ?? 0) <= replicas);
    }
    const rolled = rollingUpdate({ s, tasks: tasks.map((t) => t.record), outdated, slots: occupied.size + replace.length, now, wake });
    if (rolled.rollback) {
      // the spec changes back: decide the tasks again from it on the next pass
      plans.push({ serviceId: s.id, serviceRevision: svc.modRevision, creates: [], updates: [], deletes: [], service: rolled.rollback });
      continue;
    }
    if (rolled.service) plan.service = rolled.service;
    const startFirst = activePolicy(rolled.service ?? s).order === 'start-first';
    for (const t of rolled.replace) {
      if (startFirst) { replace.push(at(t)); continue; }
      // stop-first: the new task is prepared but starts only once the old one has stopped
      update(t, 'shutdown');
      replace.push({ ...at(t), ready: { startAfter: now } });
    }
    for (const where of replace) plan.creates.push(newTask(s, input.newId(), now, where));

    reapHistory(plan, tasks, slotOf, nodes, input.historyLimit);
    if (plan.creates.length || plan.updates.length || plan.deletes.length || plan.service) plans.push(plan);
  }
  return { plans, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}

const FAILED_STATES = new Set(['failed', 'rejected', 'complete']);

/**
 * The rolling update, decided from the store alone (swarmkit's updater keeps
 * this in memory; here the service's UpdateStatus and the tasks' times carry
 * it). Tasks of the current spec created since the update started are its
 * new tasks. A slot is busy from its replacement's creation until the
 * replacement has run for Delay; at most Parallelism slots are busy. A new
 * task that ends (failed, rejected, complete) before it ran, or within
 * Monitor of starting, is a failure; failures over MaxFailureRatio of the
 * slots pause the update, roll it back to PreviousSpec (with
 * RollbackConfig), or are ignored (continue). The update completes once no
 * slot is outdated or busy and the newest task has run for Monitor.
 */
function rollingUpdate(a: { s: ServiceRecord; tasks: TaskRecord[]; outdated: TaskRecord[]; slots: number; now: number; wake: (at: number) => void }):
  { replace: TaskRecord[]; service?: ServiceRecord; rollback?: ServiceRecord } {
  const { s, now } = a;
  let status = s.updateStatus;
  let service: ServiceRecord | undefined;
  const idle = !status || status.state === 'completed' || status.state === 'rollback_completed';
  if (!a.outdated.length && idle) return { replace: [] };
  if (idle) {
    status = { state: 'updating', startedAt: iso(now), message: 'update in progress' };
    service = { ...s, updateStatus: status };
  }
  const st = status!;
  if (st.state === 'paused' || st.state === 'rollback_paused') return { replace: [] };
  const policy = activePolicy({ ...s, updateStatus: st });
  const since = Date.parse(st.startedAt);
  const fresh = a.tasks.filter((t) => t.specVersion === s.specVersion && Date.parse(t.createdAt) >= since);

  const failed = fresh.filter((t) => FAILED_STATES.has(t.status.state)
    && (!t.runningAt || Date.parse(t.status.timestamp) - Date.parse(t.runningAt) <= policy.monitorMs))
    .sort((x, y) => x.status.timestamp.localeCompare(y.status.timestamp));
  if (policy.failureAction !== 'continue' && failed.length && failed.length / Math.max(1, a.slots) > policy.maxFailureRatio) {
    const culprit = failed[failed.length - 1]!.id;
    if (policy.failureAction === 'rollback' && st.state === 'updating' && s.previousSpec) {
      return {
        replace: [],
        rollback: {
          ...s, spec: s.previousSpec, previousSpec: s.spec,
          specVersion: s.previousSpecVersion ?? s.specVersion + 1, previousSpecVersion: s.specVersion,
          updateStatus: { ...st, state: 'rollback_started', message: `update rolled back due to failure or early termination of task ${culprit}` },
        },
      };
    }
    // never roll back a rollback (swarmkit): it pauses
    const rollingBack = st.state === 'rollback_started';
    const paused = { ...st, state: rollingBack ? 'rollback_paused' as const : 'paused' as const,
      message: `${rollingBack ? 'rollback' : 'update'} paused due to failure or early termination of task ${culprit}` };
    return { replace: [], service: { ...s, updateStatus: paused } };
  }

  const live = fresh.filter((t) => isLive(t) && !isTerminal(t.status.state));
  let busy = 0;
  let lastRun = 0;
  for (const t of live) {
    const ran = t.runningAt && t.status.state === 'running' ? Date.parse(t.runningAt) : undefined;
    if (ran === undefined) { busy++; continue; }
    lastRun = Math.max(lastRun, ran);
    if (ran + policy.delayMs > now) { busy++; a.wake(ran + policy.delayMs); }
  }
  if (!a.outdated.length) {
    if (busy) return { replace: [], ...(service ? { service } : {}) };
    if (lastRun + policy.monitorMs > now) { a.wake(lastRun + policy.monitorMs); return { replace: [], ...(service ? { service } : {}) }; }
    const back = st.state === 'rollback_started';
    return { replace: [], service: { ...s, updateStatus: { ...st, state: back ? 'rollback_completed' : 'completed', message: back ? 'rollback completed' : 'update completed', completedAt: iso(now) } } };
  }
  const room = policy.parallelism === 0 ? a.outdated.length : Math.max(0, policy.parallelism - busy);
  const order = (x: TaskRecord) => String(x.slot ?? x.nodeId ?? '');
  const next = [...a.outdated].sort((x, y) => order(x).localeCompare(order(y), undefined, { numeric: true })).slice(0, room);
  return { replace: next, ...(service ? { service } : {}) };
}

function safeConstraints(exprs: string[]) {
  try {
    return parseConstraints(exprs);
  } catch {
    // refused at create; a bad one read from the store places nothing
    return [{ key: 'node.id', equal: true, value: '\0' }];
  }
}

/**
 * Deletes the tasks no one needs: a removed task whose container is gone
 * (or whose node is), and, per slot, dead tasks beyond the history limit
 * (oldest first; the live task counts toward the limit, as in swarmkit).
 */
function reapHistory(plan: ServicePlan, tasks: Versioned<TaskRecord>[], slotOf: (t: TaskRecord) => string, nodes: Map<string, NodeInfo>, limit: number): void {
  const touched = new Set(plan.updates.map((u) => u.record.id));
  const gone = (t: TaskRecord) => isTerminal(t.status.state) || !t.nodeId || !nodes.get(t.nodeId)?.ready;
  const slots = new Map<string, Versioned<TaskRecord>[]>();
  const liveSlots = new Set(tasks.filter((t) => isLive(t.record)).map((t) => slotOf(t.record)));
  for (const t of tasks) {
    if (touched.has(t.record.id)) continue;
    if (t.record.desiredState === 'remove' && gone(t.record)) {
      plan.deletes.push({ id: t.record.id, modRevision: t.modRevision });
      continue;
    }
    if (isLive(t.record) || t.record.desiredState === 'remove' || !gone(t.record)) continue;
    slots.set(slotOf(t.record), [...(slots.get(slotOf(t.record)) ?? []), t]);
  }
  for (const [slot, dead] of slots) {
    dead.sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt));
    // a slot with no live task keeps its last task: the restart policy reads it (restart-policy.ts)
    const keep = liveSlots.has(slot) ? Math.max(0, limit - 1) : Math.max(1, limit - 1);
    for (const t of dead.slice(keep)) plan.deletes.push({ id: t.record.id, modRevision: t.modRevision });
  }
}
