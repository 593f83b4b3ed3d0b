/**
 * The orchestrator: (services, tasks, nodes, now) → the task writes that
 * bring each service toward its spec. Pure; reconciler.ts reads the store,
 * calls it, and writes each service's decisions in one transaction on the
 * revisions read here.
 *
 * Replicated: slots 1..N. A slot is held by its live task (desired running).
 * Missing slots get a new pending task; slots above N are removed (scale
 * down). A live task that ended (failed, complete, rejected) is replaced in
 * its slot when its restart policy says so, after the delay; one on a node
 * that is down, drained or gone is shut down and replaced. A live task made
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
import { hostModePorts, isGlobal, isTerminal, replicasOf, type ServiceRecord, type TaskRecord } from './service-records.js';
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

const NS_PER_MS = 1_000_000;
const DEFAULT_RESTART_DELAY_MS = 5000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function newTask(s: ServiceRecord, id: string, now: number, where: { slot?: number; nodeId?: string }): TaskRecord {
  return {
    id, serviceId: s.id, serviceName: s.spec.Name ?? s.id, ...where, desiredState: 'running',
    status: { state: 'pending', message: 'pending task scheduling', timestamp: iso(now) },
    spec: structuredClone(s.spec.TaskTemplate ?? {}), specVersion: s.specVersion, createdAt: iso(now), updatedAt: iso(now),
    ...(hostModePorts(s.spec).length ? { hostPorts: hostModePorts(s.spec) } : {}),
    ...(s.ingressNetworkId ? { ingressNetworkId: s.ingressNetworkId } : {}),
  };
}

function withDesired(t: TaskRecord, desired: TaskState, now: number, status?: Partial<TaskRecord['status']>): TaskRecord {
  return { ...t, desiredState: desired, updatedAt: iso(now), status: status ? { ...t.status, ...status, timestamp: iso(now) } : t.status };
}

/** Whether the restart policy replaces this ended task now, later (ms), or never. */
function restartDecision(s: ServiceRecord, t: TaskRecord, siblings: TaskRecord[], now: number): 'now' | 'never' | number {
  const p = s.spec.TaskTemplate?.RestartPolicy ?? {};
  const condition = p.Condition ?? 'any';
  if (condition === 'none') return 'never';
  if (condition === 'on-failure' && t.status.state === 'complete') return 'never';
  if (p.MaxAttempts) {
    const windowMs = (p.Window ?? 0) / NS_PER_MS;
    const earlier = siblings.filter((o) => o.id !== t.id && isTerminal(o.status.state) && o.status.state !== 'shutdown'
      && (!windowMs || Date.parse(o.status.timestamp) >= now - windowMs));
    if (earlier.length >= p.MaxAttempts) return 'never';
  }
  const delay = p.Delay !== undefined ? p.Delay / NS_PER_MS : DEFAULT_RESTART_DELAY_MS;
  const at = Date.parse(t.status.timestamp) + delay;
  return at <= now ? 'now' : at;
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
    const replace: { slot?: number; nodeId?: string }[] = [];
    let outdated: TaskRecord[] = [];
    const touched = (t: TaskRecord) => plan.updates.some((u) => u.record.id === t.id);

    const live = tasks.map((t) => t.record).filter((t) => t.desiredState === 'running')
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
          const d = restartDecision(s, t, bySlot.get(slot) ?? [], now);
          if (d === 'now') { update(t, 'shutdown'); replace.push(global ? { nodeId: t.nodeId! } : { slot: t.slot! }); } else if (typeof d === 'number') wake(d);
        }
        continue;
      }
      holder.set(slot, t);
      if (t.nodeId && (!node || !node.ready || node.availability === 'drain' || (global && !qualifies(node)))) {
        // its node is down, drained, gone (or, global, no longer qualifies): shut down, replaced elsewhere
        update(t, 'shutdown', node && !node.ready ? { state: 'orphaned', message: 'task belongs to a node that is down' } : undefined);
        if (!global) { occupied.add(slot); replace.push({ slot: t.slot! }); }
        continue;
      }
      if (isTerminal(t.status.state)) {
        const d = restartDecision(s, t, bySlot.get(slot) ?? [], now);
        occupied.add(slot);
        if (d === 'now') {
          update(t, 'shutdown');
          replace.push(global ? { nodeId: t.nodeId! } : { slot: t.slot! });
        } else if (typeof d === 'number') wake(d);
        continue;
      }
      occupied.add(slot);
      if (t.specVersion !== s.specVersion) outdated.push(t);
    }

    if (global) {
      for (const n of input.nodes) if (eligible(n) && !occupied.has(n.id)) replace.push({ nodeId: n.id });
    } else {
      const replicas = replicasOf(s.spec);
      for (let i = 1; i <= replicas; i++) if (!occupied.has(String(i))) replace.push({ slot: i });
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
      if (!startFirst) update(t, 'shutdown');
      replace.push(global ? { nodeId: t.nodeId! } : { slot: t.slot! });
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

  const live = fresh.filter((t) => t.desiredState === 'running' && !isTerminal(t.status.state));
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
  for (const t of tasks) {
    if (touched.has(t.record.id)) continue;
    if (t.record.desiredState === 'remove' && gone(t.record)) {
      plan.deletes.push({ id: t.record.id, modRevision: t.modRevision });
      continue;
    }
    if (t.record.desiredState === 'running' || t.record.desiredState === 'remove' || !gone(t.record)) continue;
    slots.set(slotOf(t.record), [...(slots.get(slotOf(t.record)) ?? []), t]);
  }
  for (const [, dead] of slots) {
    dead.sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt));
    for (const t of dead.slice(Math.max(0, limit - 1))) plan.deletes.push({ id: t.record.id, modRevision: t.modRevision });
  }
}
