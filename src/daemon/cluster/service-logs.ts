/**
 * `docker service logs` on a manager (moby's Cluster.ServiceLogs): the lines
 * of every task of a service (or of one task), whichever node it ran on,
 * merged as they come, each with the details the CLI formats its
 * `web.1.<task id>@<node>    | ` prefix from:
 *
 *   com.docker.swarm.node.id=<id>,com.docker.swarm.service.id=<id>,com.docker.swarm.task.id=<id>
 *
 *   const { tty, entries } = await serviceLogs({ service: 'web' }, { follow: false, stdout: true, stderr: true, tail: 1 }, signal, deps);
 *
 * Tasks that ended count while their container exists on their node. This
 * node's tasks are read here; another node's over its swarm port
 * (task-log-protocol.ts). A node that is down, or does not answer, is
 * skipped: one warning line (stderr) tells which, instead of a wait.
 * Following a service also follows the tasks it starts later (a replacement,
 * a scale-up), from their first line, as swarmkit's log broker does.
 */
import { InvalidParameter, NotFound } from '../../errdefs/index.js';
import { mergeAsync } from '../../lib/merge-async.js';
import { nowNs, rfc3339Nano } from '../logs/entry.js';
import type { LogEntry } from '../logs/entry.js';
import { SERVICES_PREFIX, TASKS_PREFIX, stateRank, type ServiceRecord, type TaskRecord } from './service-records.js';
import type { KeyValueStore, Watches } from './store.js';
import { resolveService } from './swarm-services.js';
import { HEARTBEATS_PREFIX, NODES_PREFIX, SWARM_PORT, type NodeRecord } from './swarm-objects.js';
import type { TaskLogTarget } from './task-log-protocol.js';
import type { TaskLogLine, TaskLogQuery } from './task-log-source.js';

export type LogSelector = { service: string } | { task: string };

export interface ServiceLogDeps {
  store: Pick<KeyValueStore, 'list'> & Watches;
  /** This node's id: its tasks are read locally. */
  self: string;
  local(taskIds: string[], q: TaskLogQuery, signal: AbortSignal): AsyncIterable<TaskLogLine>;
  remote(target: TaskLogTarget, taskIds: string[], q: TaskLogQuery, signal: AbortSignal): AsyncIterable<TaskLogLine>;
}

const CTX = 'com.docker.swarm';

/** Resolves the selector now (NotFound before any byte is written), then streams. */
export async function serviceLogs(sel: LogSelector, q: TaskLogQuery, signal: AbortSignal, d: ServiceLogDeps): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }> {
  const [services, tasks, nodes, beats] = await Promise.all([SERVICES_PREFIX, TASKS_PREFIX, NODES_PREFIX, HEARTBEATS_PREFIX].map((p) => d.store.list(p)));
  const taskRecords = tasks!.items.map((kv) => JSON.parse(kv.value) as TaskRecord);
  let chosen: TaskRecord[];
  let tty: boolean;
  let serviceId: string | undefined;
  if ('service' in sel) {
    const s = resolveService(sel.service, services!.items.map((kv) => JSON.parse(kv.value) as ServiceRecord));
    serviceId = s.id;
    chosen = taskRecords.filter((t) => t.serviceId === s.id);
    tty = !!s.spec.TaskTemplate?.ContainerSpec?.TTY;
  } else {
    const t = findTask(sel.task, taskRecords);
    chosen = [t];
    tty = !!t.spec.ContainerSpec?.TTY;
  }
  const nodeById = new Map(nodes!.items.map((kv) => { const n = JSON.parse(kv.value) as NodeRecord; return [n.id, n]; }));
  const alive = new Set(beats!.items.map((kv) => kv.key.slice(HEARTBEATS_PREFIX.length)));
  const byNode = new Map<string, TaskRecord[]>();
  for (const t of chosen) if (t.nodeId) byNode.set(t.nodeId, [...(byNode.get(t.nodeId) ?? []), t]);
  const sources = [...byNode].map(([nodeId, ts]) => nodeLines(nodeId, ts, nodeById.get(nodeId), alive.has(nodeId), q, signal, d));
  const later = q.follow && serviceId !== undefined
    ? laterTasks(serviceId, new Set(chosen.map((t) => t.id)), tasks!.revision, { ...q, tail: undefined }, signal, nodeById, d)
    : undefined;
  return { tty, entries: mergeAsync(sources, later) };
}

/**
 * The service's tasks that reach `running` after the first list, each as a
 * source of its own once its container exists. A task placed on a node that
 * joined since is looked up as down: its lines are left out with a warning.
 */
async function* laterTasks(
  serviceId: string, known: Set<string>, revision: number, q: TaskLogQuery, signal: AbortSignal, nodeById: Map<string, NodeRecord>, d: ServiceLogDeps,
): AsyncGenerator<AsyncIterable<LogEntry>> {
  for await (const ev of d.store.watch(TASKS_PREFIX, { fromRevision: revision + 1, signal })) {
    if (ev.type !== 'put') continue;
    const t = JSON.parse(ev.value) as TaskRecord;
    if (t.serviceId !== serviceId || known.has(t.id) || !t.nodeId || stateRank(t.status.state) < stateRank('running')) continue;
    known.add(t.id);
    yield nodeLines(t.nodeId, [t], nodeById.get(t.nodeId), nodeById.has(t.nodeId), q, signal, d);
  }
}

/** The task a reference names: full id, then a unique id prefix (moby's getTask). */
function findTask(ref: string, tasks: TaskRecord[]): TaskRecord {
  const exact = tasks.find((t) => t.id === ref);
  if (exact) return exact;
  const found = tasks.filter((t) => t.id.startsWith(ref));
  if (found.length > 1) throw new InvalidParameter('swarm.task_ambiguous', `task ${ref} is ambiguous (${found.length} matches found)`);
  if (!found[0]) throw new NotFound('swarm.task_not_found', `task ${ref} not found`);
  return found[0];
}

function detailsOf(t: TaskRecord): Record<string, string> {
  return { [`${CTX}.node.id`]: t.nodeId ?? '', [`${CTX}.service.id`]: t.serviceId, [`${CTX}.task.id`]: t.id };
}

/** Where a node's swarm port is: a manager's recorded address, else its advertise IP on the default port. */
export function swarmPortOf(n: NodeRecord): string {
  return n.managerAddr || (n.addr.includes(':') ? `[${n.addr}]:${SWARM_PORT}` : `${n.addr}:${SWARM_PORT}`);
}

async function* nodeLines(
  nodeId: string, tasks: TaskRecord[], node: NodeRecord | undefined, alive: boolean, q: TaskLogQuery, signal: AbortSignal, d: ServiceLogDeps,
): AsyncGenerator<LogEntry> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const warning = (why: string): LogEntry => ({
    stream: 'stderr', time: rfc3339Nano(nowNs()), attrs: detailsOf(tasks[0]!),
    log: `warning: the logs of node ${node?.description.Hostname ?? nodeId} are left out: ${why}\n`,
  });
  if (nodeId !== d.self && (!node || !alive)) {
    yield warning('the node is down');
    return;
  }
  const ids = tasks.map((t) => t.id);
  try {
    const lines = nodeId === d.self ? d.local(ids, q, signal) : d.remote({ nodeId, addr: swarmPortOf(node!) }, ids, q, signal);
    for await (const { taskId, entry } of lines) {
      const t = byId.get(taskId);
      if (t) yield { ...entry, attrs: { ...entry.attrs, ...detailsOf(t) } };
    }
  } catch (err) {
    if (!signal.aborted) yield warning((err as Error).message);
  }
}
