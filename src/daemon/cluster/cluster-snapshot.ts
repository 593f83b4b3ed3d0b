/**
 * One read of what the orchestrator, scheduler and API need: services,
 * tasks, nodes (ready = heartbeat key alive), the service locks and the
 * swarm's task history limit.
 */
import { HEARTBEATS_PREFIX, NODES_PREFIX, CLUSTER_KEY, type ClusterRecord, type NodeRecord } from './swarm-objects.js';
import { SERVICE_LOCKS_PREFIX, SERVICES_PREFIX, TASKS_PREFIX, type ServiceRecord, type TaskRecord } from './service-records.js';
import type { NodeInfo } from './placement.js';
import type { Versioned } from './orchestrator.js';
import type { KeyValueStore } from './store.js';

export interface ClusterSnapshot {
  services: Versioned<ServiceRecord>[];
  tasks: Versioned<TaskRecord>[];
  nodes: NodeInfo[];
  /** service id → its lock key's modRevision (0: none yet). */
  locks: Map<string, number>;
  historyLimit: number;
}

export function nodeInfo(n: NodeRecord, ready: boolean): NodeInfo {
  return {
    id: n.id, hostname: n.description.Hostname, role: n.spec.Role, availability: n.spec.Availability, ready,
    labels: n.spec.Labels ?? {}, engineLabels: n.description.Engine.Labels ?? {},
    nanoCpus: n.description.Resources.NanoCPUs, memoryBytes: n.description.Resources.MemoryBytes,
    os: n.description.Platform.OS, arch: n.description.Platform.Architecture,
  };
}

export async function readSnapshot(store: Pick<KeyValueStore, 'get' | 'list'>): Promise<ClusterSnapshot> {
  const [cluster, nodes, beats, services, tasks, locks] = await Promise.all([
    store.get(CLUSTER_KEY), store.list(NODES_PREFIX), store.list(HEARTBEATS_PREFIX), store.list(SERVICES_PREFIX), store.list(TASKS_PREFIX),
    store.list(SERVICE_LOCKS_PREFIX),
  ]);
  const alive = new Set(beats.items.map((kv) => kv.key.slice(HEARTBEATS_PREFIX.length)));
  const limit = cluster ? (JSON.parse(cluster.value) as ClusterRecord).spec.Orchestration?.TaskHistoryRetentionLimit : undefined;
  return {
    services: services.items.map((kv) => ({ record: JSON.parse(kv.value) as ServiceRecord, modRevision: kv.modRevision })),
    tasks: tasks.items.map((kv) => ({ record: JSON.parse(kv.value) as TaskRecord, modRevision: kv.modRevision })),
    nodes: nodes.items.map((kv) => { const n = JSON.parse(kv.value) as NodeRecord; return nodeInfo(n, alive.has(n.id)); }),
    locks: new Map(locks.items.map((kv) => [kv.key.slice(SERVICE_LOCKS_PREFIX.length), kv.modRevision])),
    historyLimit: limit ?? 5,
  };
}
