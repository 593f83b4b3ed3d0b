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

/** Every node record and its view (ready while its heartbeat key lives). */
export async function readNodes(store: ClusterStore): Promise<{ views: NodeView[]; records: { record: NodeRecord; kv: KeyValue }[] }> {
  const [{ record: cluster }, nodes, beats] = await Promise.all([readCluster(store), store.list(NODES_PREFIX), store.list(HEARTBEATS_PREFIX)]);
  const alive = new Set(beats.items.map((kv) => kv.key.slice(HEARTBEATS_PREFIX.length)));
  const records = nodes.items.map((kv) => ({ record: JSON.parse(kv.value) as NodeRecord, kv }));
  const views = records.map(({ record, kv }) => nodeView(record, kv.modRevision, alive.has(record.id), cluster.leaderId, cluster.rootCaCertPem));
  return { views, records };
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

  private async findNode(store: ClusterStore, ref: string): Promise<{ view: NodeView; record: NodeRecord; kv: KeyValue }> {
    const { views, records } = await readNodes(store);
    const all = views.map((view, i) => ({ id: view.ID, name: view.Spec.Name || view.Description.Hostname, view, ...records[i]! }));
    const found = resolveNodeRef(ref, all);
    if (found === 'ambiguous') {
      throw new InvalidParameter('swarm.node_ambiguous', `node ${ref} is ambiguous (${all.filter((n) => n.id.startsWith(ref) || n.name === ref).length} matches found)`);
    }
    if (!found) throw new NotFound('swarm.node_not_found', `node ${ref} not found`);
    return found;
  }

  async inspectNode(ref: string): Promise<NodeView> {
    return (await this.findNode(this.store(), ref)).view;
  }

  async updateNode(ref: string, version: number, spec: NodeSpec): Promise<void> {
    const store = this.store();
    const { record, kv } = await this.findNode(store, ref);
    if (version !== kv.modRevision) throw outOfSequence();
    const next = applyNodeSpec(record, spec, new Date().toISOString());
    if (next.spec.Role !== record.spec.Role) {
      // one manager per swarm today, so a demotion is always of the last one
      if (record.spec.Role === 'manager') throw new Conflict('swarm.node_role', 'attempting to demote the last manager of the swarm');
      throw new InvalidParameter('swarm.unsupported_option', 'promoting a worker to manager is not supported by berth yet');
    }
    const r = await store.txn({ compare: [{ key: kv.key, modRevision: kv.modRevision }], success: [{ put: kv.key, value: JSON.stringify(next) }] });
    if (!r.succeeded) throw outOfSequence();
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
  }
}
