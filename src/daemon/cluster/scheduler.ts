/**
 * The scheduler: pending tasks → nodes. Pure; reconciler.ts writes each
 * assignment as a transaction on the task's revision.
 *
 * A node fits when it is ready and active, meets the service's placement
 * constraints and has the task's reservations (CPU, memory) left after its
 * live tasks', and has fewer than `MaxReplicas` live tasks of the service
 * (`--replicas-max-per-node`). Placement preferences (`--placement-pref
 * spread=node.labels.zone`, nested in the order given) first pick the
 * label value, among those of the nodes that fit, whose nodes hold the
 * fewest tasks of the service (nodes without the label form one group, as
 * in swarmkit's tree). Then the node with the fewest live tasks of the
 * service, then the fewest live tasks overall (swarmkit's spread), then the
 * lowest id. A task whose published host-mode port a live task on a node
 * already holds does not go there (swarmkit's HostPortFilter). A task no node fits stays pending with swarmkit's explanation,
 * `no suitable node (scheduling constraints not satisfied on 3 nodes)`.
 * A global task is made for its node: it is assigned there when the node is
 * ready.
 */
import { constraintsMatch, parseConstraints, spreadKeys, valueOf, type NodeInfo } from './placement.js';
import { isLive, isTerminal, type TaskRecord } from './service-records.js';
import type { Versioned } from './orchestrator.js';

export interface SchedulerInput {
  tasks: Versioned<TaskRecord>[];
  nodes: NodeInfo[];
  now: number;
}

const plural = (n: number) => `${n} node${n === 1 ? '' : 's'}`;

/** Takes up room on its node: meant to run and not yet ended. */
const holdsNode = (t: TaskRecord) => !!t.nodeId && isLive(t) && !isTerminal(t.status.state);

export function schedule(input: SchedulerInput): Versioned<TaskRecord>[] {
  const now = new Date(input.now).toISOString();
  const perNode = new Map<string, NodeLoad>();
  const load = (id: string) => {
    let l = perNode.get(id);
    if (!l) perNode.set(id, (l = { all: 0, byService: new Map(), cpu: 0, mem: 0, hostPorts: new Set() }));
    return l;
  };
  const place = (t: TaskRecord, nodeId: string) => {
    const l = load(nodeId);
    l.all++;
    l.byService.set(t.serviceId, (l.byService.get(t.serviceId) ?? 0) + 1);
    l.cpu += t.spec.Resources?.Reservations?.NanoCPUs ?? 0;
    l.mem += t.spec.Resources?.Reservations?.MemoryBytes ?? 0;
    for (const p of hostPortKeys(t)) l.hostPorts.add(p);
  };
  for (const t of input.tasks) if (holdsNode(t.record) && t.record.status.state !== 'pending') place(t.record, t.record.nodeId!);

  const out: Versioned<TaskRecord>[] = [];
  // a waiting replacement (desired ready) is placed at once, so its node can prepare it
  const pending = input.tasks.filter((t) => isLive(t.record) && t.record.status.state === 'pending')
    .sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt) || (a.record.slot ?? 0) - (b.record.slot ?? 0));
  for (const { record: t, modRevision } of pending) {
    const assign = (nodeId: string) => {
      place(t, nodeId);
      out.push({
        record: { ...t, nodeId, updatedAt: now, status: { state: 'assigned', message: 'scheduler assigned task to node', timestamp: now } },
        modRevision,
      });
    };
    if (t.nodeId) {
      const n = input.nodes.find((x) => x.id === t.nodeId);
      if (n?.ready && n.availability === 'active') assign(n.id);
      continue;
    }
    const { fits, explanation } = candidates(t, input.nodes, perNode);
    const mine = (n: NodeInfo) => perNode.get(n.id)?.byService.get(t.serviceId) ?? 0;
    const groups = spreadGroups(spreadKeys(t.spec.Placement?.Preferences), fits, mine);
    const best = fits.sort((a, b) => {
      for (const g of groups) if (g(a) !== g(b)) return g(a) - g(b);
      const la = perNode.get(a.id);
      const lb = perNode.get(b.id);
      return mine(a) - mine(b) || (la?.all ?? 0) - (lb?.all ?? 0) || a.id.localeCompare(b.id);
    })[0];
    if (best) assign(best.id);
    else {
      const err = `no suitable node${explanation ? ` (${explanation})` : ''}`;
      if (t.status.err !== err) out.push({ record: { ...t, updatedAt: now, status: { ...t.status, err, timestamp: now } }, modRevision });
    }
  }
  return out;
}

/**
 * Per spread level, a node → the service's tasks on the fitting nodes that share its values of
 * the keys down to that level: comparing these level by level walks swarmkit's preference tree.
 */
function spreadGroups(keys: string[], fits: NodeInfo[], mine: (n: NodeInfo) => number): ((n: NodeInfo) => number)[] {
  return keys.map((_, level) => {
    const path = (n: NodeInfo) => JSON.stringify(keys.slice(0, level + 1).map((k) => valueOf(k, n) ?? ''));
    const count = new Map<string, number>();
    for (const n of fits) count.set(path(n), (count.get(path(n)) ?? 0) + mine(n));
    return (n: NodeInfo) => count.get(path(n)) ?? 0;
  });
}

interface NodeLoad {
  all: number;
  byService: Map<string, number>;
  cpu: number;
  mem: number;
  /** `8080/tcp` of each host-mode port its live tasks hold */
  hostPorts: Set<string>;
}

/** The host-mode ports a task binds, as `published/protocol` (a port left to the node to pick never conflicts). */
function hostPortKeys(t: TaskRecord): string[] {
  return (t.hostPorts ?? []).filter((p) => p.PublishedPort).map((p) => `${p.PublishedPort}/${p.Protocol ?? 'tcp'}`);
}

/** The nodes that fit, and swarmkit's pipeline explanation of the others (each counted at the first filter it fails). */
function candidates(t: TaskRecord, nodes: NodeInfo[], perNode: Map<string, NodeLoad>): { fits: NodeInfo[]; explanation: string } {
  let constraints: ReturnType<typeof parseConstraints>;
  try {
    constraints = parseConstraints(t.spec.Placement?.Constraints ?? []);
  } catch {
    return { fits: [], explanation: `scheduling constraints not satisfied on ${plural(nodes.length)}` };
  }
  const cpu = t.spec.Resources?.Reservations?.NanoCPUs ?? 0;
  const mem = t.spec.Resources?.Reservations?.MemoryBytes ?? 0;
  const maxReplicas = t.spec.Placement?.MaxReplicas ?? 0;
  const failed = { ready: 0, resources: 0, constraints: 0, hostPorts: 0, maxReplicas: 0 };
  const ports = hostPortKeys(t);
  const fits = nodes.filter((n) => {
    if (!n.ready || n.availability !== 'active') return (failed.ready++, false);
    const used = perNode.get(n.id);
    if ((cpu && cpu > n.nanoCpus - (used?.cpu ?? 0)) || (mem && mem > n.memoryBytes - (used?.mem ?? 0))) return (failed.resources++, false);
    if (!constraintsMatch(constraints, n)) return (failed.constraints++, false);
    if (ports.some((p) => used?.hostPorts.has(p))) return (failed.hostPorts++, false);
    if (maxReplicas && (used?.byService.get(t.serviceId) ?? 0) >= maxReplicas) return (failed.maxReplicas++, false);
    return true;
  });
  const parts: string[] = [];
  if (failed.ready) parts.push(`${plural(failed.ready)} not available for new tasks`);
  if (failed.resources) parts.push(`insufficient resources on ${plural(failed.resources)}`);
  if (failed.constraints) parts.push(`scheduling constraints not satisfied on ${plural(failed.constraints)}`);
  if (failed.hostPorts) parts.push(`host-mode port already in use on ${plural(failed.hostPorts)}`);
  // swarmkit's MaxReplicasFilter explains itself without a count
  if (failed.maxReplicas) parts.push('max replicas per node limit exceed');
  return { fits, explanation: parts.join('; ') };
}
