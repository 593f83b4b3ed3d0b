/**
 * Managers are etcd members. This module holds the steps a node takes to
 * become one and to stop being one, the watch that tells a node its role
 * changed (`docker node promote/demote`), and the quorum arithmetic behind
 * dockerd's refusals, as pure functions.
 *
 *   // a manager joining, or a worker promoted: through a store connected to the members
 *   const member = await joinEtcdCluster(store, { name: nodeId, peerUrl }, (initialCluster) => makeMember(initialCluster));
 *   // demoted, or leaving with --force: leaveCluster(member, store) (etcd-member.ts)
 *
 *   const stop = watchOwnRole(store, nodeId, (role) => ...);  // 'manager' | 'worker' | 'removed'
 */
import type { NodeView } from '../../api/types/index.js';
import { Unavailable } from '../../errdefs/index.js';
import { initialClusterOf, type EtcdMember } from './etcd-member.js';
import { StoreUnavailable, type ClusterStore, type Membership } from './store.js';
import { nodeKey, type NodeRecord } from './swarm-objects.js';

/**
 * Adds this node to the etcd cluster and starts its member with `existing`
 * and the member list etcd returned. A member of an earlier attempt with the
 * same peer URL (a join that failed half way) is removed first. If the new
 * member does not come up healthy it is removed again, so the others'
 * quorum does not count a member that never ran.
 */
export async function joinEtcdCluster(
  store: Membership,
  self: { name: string; peerUrl: string },
  makeMember: (initialCluster: string) => EtcdMember,
  o: { healthyWithinMs?: number } = {},
): Promise<EtcdMember> {
  const stale = (await store.listMembers()).find((m) => m.peerUrls.includes(self.peerUrl));
  if (stale) await store.removeMember(stale.id);
  const { member: added, members } = await store.addMember([self.peerUrl]);
  const member = makeMember(initialClusterOf(members, self.name, self.peerUrl));
  try {
    await member.start();
    await member.waitHealthy(o.healthyWithinMs ?? 60_000);
  } catch (err) {
    await member.destroy().catch(() => {});
    await store.removeMember(added.id).catch(() => {});
    throw err;
  }
  return member;
}

/**
 * Calls `onRole` with this node's role as its record says, at once and on
 * every change ('removed' once the record is gone: `node rm --force`).
 * Re-reads after a lost watch, so a change during an outage is not missed.
 * Returns a function that stops watching.
 */
export function watchOwnRole(store: Pick<ClusterStore, 'get' | 'watch'>, nodeId: string, onRole: (role: 'manager' | 'worker' | 'removed') => void, retryMs = 1000): () => void {
  const ctl = new AbortController();
  const key = nodeKey(nodeId);
  const report = (value: string | undefined) => onRole(value ? (JSON.parse(value) as NodeRecord).spec.Role : 'removed');
  void (async () => {
    while (!ctl.signal.aborted) {
      try {
        const kv = await store.get(key);
        report(kv?.value);
        const from = kv ? kv.modRevision + 1 : undefined;
        for await (const ev of store.watch(key, { ...(from ? { fromRevision: from } : {}), signal: ctl.signal })) {
          if (ev.key === key) report(ev.type === 'put' ? ev.value : undefined);
        }
      } catch {
        // the store is down or the watch compacted: read again after a pause
      }
      if (!ctl.signal.aborted) await new Promise((r) => setTimeout(r, retryMs));
    }
  })();
  return () => ctl.abort();
}

/** dockerd's managerStats: reachable and unreachable managers, and whether this one is reachable. */
export function managerStats(views: NodeView[], selfId: string): { active: boolean; reachable: number; unreachable: number } {
  let reachable = 0;
  let unreachable = 0;
  let active = false;
  for (const v of views) {
    if (!v.ManagerStatus) continue;
    if (v.ManagerStatus.Reachability === 'reachable') {
      reachable++;
      if (v.ID === selfId) active = true;
    } else {
      unreachable++;
    }
  }
  return { active, reachable, unreachable };
}

const LEAVE_MANAGER = 'You are attempting to leave the swarm on a node that is participating as a manager. ';

/**
 * dockerd's refusal of `swarm leave` without --force on a manager (daemon/cluster/swarm.go):
 * always refused; the message says whether it is the last manager, or how many stay.
 * `stats` undefined: the swarm could not be asked.
 */
export function leaveManagerRefusal(stats: ReturnType<typeof managerStats> | undefined): { code: string; message: string } {
  let msg = LEAVE_MANAGER;
  if (stats) {
    const { active, reachable, unreachable } = stats;
    if (active && reachable - 2 <= unreachable) {
      if (reachable === 1 && unreachable === 0) {
        return { code: 'swarm.leave_last_manager', message: `${msg}Removing the last manager erases all current state of the swarm. Use \`--force\` to ignore this message. ` };
      }
      msg += `Removing this node leaves ${reachable - 1} managers out of ${reachable + unreachable}. Without a Raft quorum your swarm will be inaccessible. `;
    }
  } else {
    msg += 'Doing so may lose the consensus of your cluster. ';
  }
  msg += 'The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.';
  return { code: 'swarm.leave_manager', message: msg };
}

export const NO_LEADER = "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

/** A store for API requests: a store that cannot answer becomes dockerd's "no leader" error (503). */
export function withNoLeaderErrors<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || prop === 'watch') return v;
      return (...args: unknown[]) => {
        const out = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.catch((err: unknown) => {
          throw err instanceof StoreUnavailable ? new Unavailable('swarm.no_leader', NO_LEADER, { cause: err }) : err;
        });
      };
    },
  });
}
