/**
 * The virtual IPs of services (endpoint mode `vip`, the default): one per
 * overlay network a service is attached to, leased from the network's
 * cluster-wide addresses like a container's (same `ipam/<net>/<ip>` key, so
 * no container ever gets it), with a record every node reads for DNS and
 * load balancing:
 *
 *   /berth/swarm/overlay/ipam/<net>/<ip>          {containerId: "vip:<service id>", nodeId: ""}
 *   /berth/swarm/overlay/vips/<net>/<service id>  VipRecord {serviceId, ip, prefix, names}
 *
 *   const plan = planVips(spec, service.id, networks, current);   // pure
 *   await applyVipPlan(store, service.id, plan);                  // transactions
 *
 * Made on service create/update (before the service write, so a task never
 * starts before its VIP exists), freed on service rm, on a network taken
 * off the service and on a switch to dnsrr.
 */
import type { ServiceSpecView } from '../../api/types/index.js';
import { Unavailable } from '../../errdefs/index.js';
import { formatIp, parseCidr } from '../../lib/ipv4.js';
import {
  freeAddress, ipKey, leasedAddresses, networkKey, usersKey, vipKey, VIPS_PREFIX, type OverlayNetworkRecord, type VipRecord,
} from './network-records.js';
import type { KeyValueStore } from './store.js';

const ROUNDS = 20;

export interface VipWant {
  names: string[];
  ports?: NonNullable<VipRecord['ports']>;
}

/** The ingress network and the service's published ports there (mode ingress). */
export interface IngressWant {
  netId: string;
  ports: NonNullable<VipRecord['ports']>;
}

export interface VipPlan {
  /** network id -> names (and, on ingress, ports): a VIP to lease, or whose names or ports changed. */
  want: Map<string, VipWant>;
  /** network ids whose VIP goes. */
  drop: string[];
}

/** The network of a spec's `Target`: id, name, or unique id prefix (the CLI sends ids). */
export function findNetwork(target: string, nets: OverlayNetworkRecord[]): OverlayNetworkRecord | undefined {
  return nets.find((n) => n.id === target) ?? nets.find((n) => n.name === target) ?? (() => {
    const byPrefix = nets.filter((n) => n.id.startsWith(target));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  })();
}

/** What VIPs the spec needs against those it has (`current`: network id -> record). */
export function planVips(spec: ServiceSpecView, nets: OverlayNetworkRecord[], current: Map<string, VipRecord>, ingress?: IngressWant): VipPlan {
  const want = new Map<string, VipWant>();
  // published ports need the ingress VIP in either endpoint mode: the mesh forwards to it
  if (ingress?.ports.length) want.set(ingress.netId, { names: [], ports: ingress.ports });
  if ((spec.EndpointSpec?.Mode ?? 'vip') === 'vip') {
    for (const a of spec.TaskTemplate?.Networks ?? []) {
      const net = findNetwork(a.Target, nets);
      if (net && !net.ingress) want.set(net.id, { names: [...new Set([spec.Name ?? '', ...(a.Aliases ?? [])].filter(Boolean))] });
    }
  }
  const wanted = new Set(want.keys());
  for (const [id, w] of [...want]) {
    const cur = current.get(id);
    if (cur && cur.names.join('\0') === w.names.join('\0') && JSON.stringify(cur.ports ?? []) === JSON.stringify(w.ports ?? [])) want.delete(id);
  }
  const drop = [...current.keys()].filter((id) => !wanted.has(id));
  return { want, drop };
}

/** The service's VIPs, by network id. */
export async function serviceVips(kv: KeyValueStore, serviceId: string): Promise<Map<string, VipRecord>> {
  const { items } = await kv.list(VIPS_PREFIX);
  const out = new Map<string, VipRecord>();
  for (const i of items) {
    const v = JSON.parse(i.value) as VipRecord;
    if (v.serviceId === serviceId) out.set(i.key.slice(VIPS_PREFIX.length).split('/')[0]!, v);
  }
  return out;
}

/** Leases (or renames) the VIP of the service on the network: one transaction on the network, the address and the record. */
export async function allocateVip(kv: KeyValueStore, netId: string, serviceId: string, names: string[], ports?: VipRecord['ports']): Promise<VipRecord> {
  for (let round = 0; round < ROUNDS; round++) {
    const netKv = await kv.get(networkKey(netId));
    if (!netKv) throw new Unavailable('network.not_found', `network ${netId} not found`);
    const net = JSON.parse(netKv.value) as OverlayNetworkRecord;
    const prefix = parseCidr(net.subnet)!.cidr.prefix;
    const curKv = await kv.get(vipKey(netId, serviceId));
    if (curKv) {
      const { ports: _old, ...cur } = JSON.parse(curKv.value) as VipRecord;
      void _old;
      const rec: VipRecord = { ...cur, names, ...(ports?.length ? { ports } : {}) };
      const r = await kv.txn({ compare: [{ key: curKv.key, modRevision: curKv.modRevision }], success: [{ put: curKv.key, value: JSON.stringify(rec) }] });
      if (r.succeeded) return rec;
      continue;
    }
    const ip = formatIp(freeAddress(net, await leasedAddresses(kv, netId)));
    const rec: VipRecord = { serviceId, ip, prefix, names, ...(ports?.length ? { ports } : {}) };
    const r = await kv.txn({
      compare: [{ key: networkKey(netId), modRevision: netKv.modRevision }, { key: ipKey(netId, ip), modRevision: 0 }, { key: vipKey(netId, serviceId), modRevision: 0 }],
      success: [
        { put: ipKey(netId, ip), value: JSON.stringify({ containerId: `vip:${serviceId}`, nodeId: '' }) },
        { put: usersKey(netId), value: `vip:${serviceId}` },
        { put: vipKey(netId, serviceId), value: JSON.stringify(rec) },
      ],
    });
    if (r.succeeded) return rec;
  }
  throw new Unavailable('swarm.store_contention', 'cluster store: too many concurrent changes to overlay networks; try again');
}

/** Frees the service's VIP on the network (its record and its address). */
export async function releaseVip(kv: KeyValueStore, netId: string, serviceId: string): Promise<void> {
  const cur = await kv.get(vipKey(netId, serviceId));
  if (!cur) return;
  const rec = JSON.parse(cur.value) as VipRecord;
  await kv.txn({ compare: [{ key: cur.key, modRevision: cur.modRevision }], success: [{ delete: cur.key }, { delete: ipKey(netId, rec.ip) }] });
}

export async function applyVipPlan(kv: KeyValueStore, serviceId: string, plan: VipPlan): Promise<void> {
  for (const [net, w] of plan.want) await allocateVip(kv, net, serviceId, w.names, w.ports);
  for (const net of plan.drop) await releaseVip(kv, net, serviceId);
}

/** Every VIP of the service goes (service rm). */
export async function releaseServiceVips(kv: KeyValueStore, serviceId: string): Promise<void> {
  for (const net of (await serviceVips(kv, serviceId)).keys()) await releaseVip(kv, net, serviceId);
}
