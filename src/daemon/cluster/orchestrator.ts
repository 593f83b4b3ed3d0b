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
 * from an older spec is replaced, one at a time (the next once the new one
 * runs).
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
import { isGlobal, isTerminal, replicasOf, type ServiceRecord, type TaskRecord } from './service-records.js';

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
    const replace: { slot?: number; nodeId?: string }[] = [];
    let outdated: TaskRecord[] = [];
    let updateInFlight = false;

    const live = tasks.map((t) => t.record).filter((t) => t.desiredState === 'running')
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const t of live) {
      const node = t.nodeId ? nodes.get(t.nodeId) : undefined;
      const slot = slotOf(t);
      if (occupied.has(slot)) {
        update(t, 'shutdown');
        continue;
      }
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
      else if (t.status.state !== 'running') updateInFlight = true;
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
    // a spec change: one task at a time, the next once the previous replacement runs
    if (outdated.length && !updateInFlight && !replace.length) {
      const t = outdated.sort((a, b) => slotOf(a).localeCompare(slotOf(b), undefined, { numeric: true }))[0]!;
      update(t, 'shutdown');
      replace.push(global ? { nodeId: t.nodeId! } : { slot: t.slot! });
    }
    for (const where of replace) plan.creates.push(newTask(s, input.newId(), now, where));

    reapHistory(plan, tasks, slotOf, nodes, input.historyLimit);
    if (plan.creates.length || plan.updates.length || plan.deletes.length) plans.push(plan);
  }
  return { plans, ...(wakeAt !== undefined ? { wakeAt } : {}) };
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
