/**
 * The `Swarm` block of `GET /info` (what `docker info` prints under "Swarm:"),
 * from this node's state and, when the store answers, the swarm's nodes.
 */
import type { SwarmInfoView } from '../../api/types/index.js';
import type { ClusterStore } from './store.js';
import { inactiveSwarmInfo, type LocalSwarmState } from './swarm-state.js';
import { readNodes } from './swarm-nodes.js';
import { clusterInfoView, SWARM_PORT } from './swarm-objects.js';

export async function swarmInfo(state: LocalSwarmState | undefined, store: ClusterStore | undefined, error: string): Promise<SwarmInfoView> {
  if (!state) return inactiveSwarmInfo();
  const host = state.advertiseIp.includes(':') ? `[${state.advertiseIp}]` : state.advertiseIp;
  const out: SwarmInfoView = {
    NodeID: state.nodeId, NodeAddr: state.advertiseIp, LocalNodeState: 'active', ControlAvailable: state.role === 'manager', Error: error,
    RemoteManagers: state.role === 'manager' ? [{ NodeID: state.nodeId, Addr: `${host}:${SWARM_PORT}` }] : (state.managers ?? []).map((m) => ({ NodeID: m.nodeId, Addr: m.addr })),
  };
  if (!store) return out;
  try {
    // one round of reads: without quorum, `docker info` waits one store timeout, not several
    const { views, cluster: { record, kv } } = await readNodes(store);
    // a worker reads the store too (it is an etcd client): its managers change with promotions and demotions
    out.RemoteManagers = views.filter((v) => v.ManagerStatus).map((v) => ({ NodeID: v.ID, Addr: v.ManagerStatus!.Addr }));
    if (state.role !== 'manager') return out;
    out.Nodes = views.length;
    out.Managers = views.filter((v) => v.Spec.Role === 'manager').length;
    out.Cluster = clusterInfoView(record, kv.modRevision);
  } catch (err) {
    if (state.role === 'manager') out.Error = (err as Error).message;
  }
  return out;
}
