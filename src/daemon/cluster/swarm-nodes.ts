/**
 * Node objects on a manager: `docker node ls/inspect/update/rm`, as reads
 * and transactions on the cluster store. Each write compares the node key's
 * modRevision (the `version` the client read), so a stale update loses.
 *
 *   const nodes = new SwarmNodes(() => store);
 *   await nodes.updateNode('self-id', view.Version.Index, { ...view.Spec, Labels: { zone: 'a' } });
 */
import type { Filters } from '../../api/filters.js';
import type { NodeSpec, NodeView } from '../../api/types/index.js';
import { Conflict, InvalidParameter, NotFound, Unavailable } from '../../errdefs/index.js';
import { currentLeader } from './leader-election.js';
import { releaseNodeNetworking } from './network-records.js';
import type { ClusterStore, KeyValue } from './store.js';
import {
  applyNodeSpec, CLUSTER_KEY, heartbeatKey, HEARTBEATS_PREFIX, NODE_FILTERS, nodeMatches, NODES_PREFIX, nodeView, resolveNodeRef,
  type ClusterRecord, type NodeRecord,
} from './swarm-objects.js';

/** The cluster record; a store without one belongs to no swarm. */
export async function readCluster(store: ClusterStore): Promise<{ record: ClusterRecord; kv: KeyValue }> {
  const kv = await store.get(CLUSTER_KEY);
  if (!kv) throw new Unavailable('swarm.not_manager', 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  return { record: JSON.parse(kv.value) as ClusterRecord, kv };
}

/** Every node record and its view (ready while its heartbeat key lives; the leader as the election says), and the cluster record. */
export async function readNodes(store: ClusterStore): Promise<{ views: NodeView[]; records: { record: NodeRecord; kv: KeyValue }[]; cluster: { record: ClusterRecord; kv: KeyValue } }> {
  const [cluster, nodes, beats, leaderId] = await Promise.all([readCluster(store), store.list(NODES_PREFIX), store.list(HEARTBEATS_PREFIX), currentLeader(store)]);
  const alive = new Set(beats.items.map((kv) => kv.key.slice(HEARTBEATS_PREFIX.length)));
  const records = nodes.items.map((kv) => ({ record: JSON.parse(kv.value) as NodeRecord, kv }));
  const views = records.map(({ record, kv }) => nodeView(record, kv.modRevision, alive.has(record.id), leaderId ?? '', cluster.record.rootCaCertPem));
  return { views, records, cluster };
}

/**
 * swarmkit's demotion checks: never the last manager, and never one whose
 * removal leaves the reachable managers without a majority of those that remain.
 */
export function checkDemotion(views: NodeView[], nodeId: string): void {
  const managers = views.filter((v) => v.Spec.Role === 'manager');
  if (managers.length === 1 && managers[0]!.ID === nodeId) throw new Conflict('swarm.node_role', 'attempting to demote the last manager of the swarm');
  const remaining = managers.filter((v) => v.ID !== nodeId);
  const reachable = remaining.filter((v) => v.ManagerStatus?.Reachability === 'reachable').length;
  if (reachable <= remaining.length / 2) throw new Conflict('swarm.node_role', "can't remove member from the raft: this would result in a loss of quorum");
}

const outOfSequence = () => new Conflict('swarm.update_out_of_sequence', 'update out of sequence');

export class SwarmNodes {
  /** `store()` throws the not-a-manager error when this node cannot answer. */
  constructor(private readonly store: () => ClusterStore) {}

  async listNodes(filters: Filters): Promise<NodeView[]> {
    const store = this.store();
    filters.accept(NODE_FILTERS);
    const { views } = await readNodes(store);
    return views.filter((v) => nodeMatches(filters, v));
  }

  private async findNode(store: ClusterStore, ref: string): Promise<{ view: NodeView; record: NodeRecord; kv: KeyValue; views: NodeView[] }> {
    const { views, records } = await readNodes(store);
    const all = views.map((view, i) => ({ id: view.ID, name: view.Spec.Name || view.Description.Hostname, view, ...records[i]! }));
    const found = resolveNodeRef(ref, all);
    if (found === 'ambiguous') {
      throw new InvalidParameter('swarm.node_ambiguous', `node ${ref} is ambiguous (${all.filter((n) => n.id.startsWith(ref) || n.name === ref).length} matches found)`);
    }
    if (!found) throw new NotFound('swarm.node_not_found', `node ${ref} not found`);
    return { ...found, views };
  }

  async inspectNode(ref: string): Promise<NodeView> {
    return (await this.findNode(this.store(), ref)).view;
  }

  async updateNode(ref: string, version: number, spec: NodeSpec): Promise<void> {
    const store = this.store();
    const { record, kv, view, views } = await this.findNode(store, ref);
    if (version !== kv.modRevision) throw outOfSequence();
    const next = applyNodeSpec(record, spec, new Date().toISOString());
    const demoting = record.spec.Role === 'manager' && next.spec.Role === 'worker';
    if (demoting) checkDemotion(views, record.id);
    const r = await store.txn({ compare: [{ key: kv.key, modRevision: kv.modRevision }], success: [{ put: kv.key, value: JSON.stringify(next) }] });
    if (!r.succeeded) throw outOfSequence();
    // A promoted or demoted node's daemon sees its record change and moves its etcd member itself
    // (manager-membership.ts). A demoted manager that is down cannot: its member goes from here, or
    // it would count against the quorum of the managers that remain.
    if (demoting && view.Status.State === 'down') {
      const member = (await store.listMembers()).find((m) => m.name === record.id);
      if (member) await store.removeMember(member.id);
    }
  }

  async removeNode(ref: string, force: boolean): Promise<void> {
    const store = this.store();
    const { record, view, kv } = await this.findNode(store, ref);
    if (record.spec.Role === 'manager') {
      throw new Conflict('swarm.node_remove_refused', `node ${record.id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    }
    if (view.Status.State === 'ready' && !force) throw new Conflict('swarm.node_remove_refused', `node ${record.id} is not down and can't be removed`);
    // a node removed by force stops counting as alive at once; its own daemon learns it at its next renewal
    const beat = await store.get(heartbeatKey(record.id));
    if (beat?.lease) await store.revokeLease(beat.lease).catch(() => {});
    await store.txn({ compare: [{ key: kv.key, modRevision: kv.modRevision }], success: [{ delete: kv.key }, { delete: heartbeatKey(record.id) }] });
    // a node that died without leaving still holds addresses and peer entries on the overlay networks
    await releaseNodeNetworking(store, record.id);
  }
}
