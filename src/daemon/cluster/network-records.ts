/**
 * Overlay networks in the cluster store: the records every node reads to
 * build its VXLAN devices, forwarding entries and DNS, and the allocations
 * (VNI, subnet, container address) that must never be made twice.
 *
 *   /berth/swarm/overlay/
 *   ├── alloc                          guard: bumped by every network create/remove, so two
 *   │                                  managers creating at once never share a name, VNI or subnet
 *   ├── networks/<id>                  OverlayNetworkRecord
 *   ├── users/<id>                     bumped by every address allocation: a remove compares it,
 *   │                                  so no endpoint appears between its check and its delete
 *   ├── ipam/<id>/<ip>                 one key per leased address: {containerId, nodeId}
 *   ├── endpoints/<id>/<container id>  OverlayEndpointRecord (name, aliases, IP, MAC, node, VTEP)
 *   ├── vips/<id>/<service id>         VipRecord: a service's virtual IP on the network (service-vips.ts)
 *   └── peers/<id>/<node id>           a node that has the network set up: {name, ip}
 *
 * Each allocation is a transaction on the revisions it read; on a lost race
 * the caller reads again and decides again (a few rounds, then Unavailable).
 */
import { Conflict, Forbidden, InvalidParameter, NotFound, Unavailable } from '../../errdefs/index.js';
import { broadcast, contains, formatCidr, formatIp, nth, overlaps, parseCidr, parseIp, size, type Cidr } from '../../lib/ipv4.js';
import type { KeyValueStore, TxnOp } from './store.js';
import { SWARM_PREFIX } from './swarm-objects.js';

export const OVERLAY_PREFIX = `${SWARM_PREFIX}overlay/`;
const ALLOC_KEY = `${OVERLAY_PREFIX}alloc`;
export const NETWORKS_PREFIX = `${OVERLAY_PREFIX}networks/`;
export const ENDPOINTS_PREFIX = `${OVERLAY_PREFIX}endpoints/`;
export const PEERS_PREFIX = `${OVERLAY_PREFIX}peers/`;
export const VIPS_PREFIX = `${OVERLAY_PREFIX}vips/`;
const IPAM_PREFIX = `${OVERLAY_PREFIX}ipam/`;
const USERS_PREFIX = `${OVERLAY_PREFIX}users/`;

export const networkKey = (id: string) => `${NETWORKS_PREFIX}${id}`;
export const endpointKey = (net: string, containerId: string) => `${ENDPOINTS_PREFIX}${net}/${containerId}`;
export const peerKey = (net: string, nodeId: string) => `${PEERS_PREFIX}${net}/${nodeId}`;
export const vipKey = (net: string, serviceId: string) => `${VIPS_PREFIX}${net}/${serviceId}`;
export const ipKey = (net: string, ip: string) => `${IPAM_PREFIX}${net}/${ip}`;
export const usersKey = (net: string) => `${USERS_PREFIX}${net}`;

/** libnetwork's overlay driver: VNIs from 4096 up; the data path port and the MTU under VXLAN's 50 bytes. */
export const VNI_FIRST = 4096;
export const VNI_LAST = 2 ** 24 - 1;
export const VXLAN_PORT = 4789;
export const OVERLAY_MTU = 1450;

export interface OverlayNetworkRecord {
  id: string;
  name: string;
  created: string;
  vni: number;
  subnet: string;
  gateway: string;
  /** --ip-range, if given. */
  ipRange?: string;
  userSubnet: boolean;
  internal: boolean;
  attachable: boolean;
  options: Record<string, string>;
  labels: Record<string, string>;
  /** The routing mesh's network (`ingress`, made at swarm init). */
  ingress?: boolean;
}

export interface OverlayEndpointRecord {
  containerId: string;
  name: string;
  /** Every name the container answers to on the network (name, short id, aliases, hostname). */
  dnsNames: string[];
  ip: string;
  mac: string;
  nodeId: string;
  /** The node's advertise address: where VXLAN frames for this endpoint go. */
  vtep: string;
  /** A task container's service (its label): the endpoint is a backend of the service's VIP. */
  serviceId?: string;
}

/** A service's virtual IP on one network: its names resolve to `ip`, which load-balances over the service's endpoints. */
export interface VipRecord {
  serviceId: string;
  ip: string;
  prefix: number;
  /** The service name and the aliases of its attachment to this network. */
  names: string[];
  /** On the ingress network: the service's published ports (mode ingress), which every node forwards here. */
  ports?: { protocol: 'tcp' | 'udp'; published: number; target: number }[];
}

export interface PeerRecord {
  name: string;
  ip: string;
}

export interface NetworkRequest {
  name: string;
  /** The user's --subnet/--gateway/--ip-range, checked by `plan` against the other overlay subnets. */
  plan?: (taken: Cidr[]) => { subnet: Cidr; gateway: number; range: Cidr };
  internal: boolean;
  attachable: boolean;
  options: Record<string, string>;
  labels: Record<string, string>;
}

export interface AddressPool {
  /** e.g. ['10.0.0.0/8'] */
  pools: string[];
  /** prefix length of each network's subnet, e.g. 24 */
  subnetSize: number;
}

const ROUNDS = 20;
const lostRaces = () => new Unavailable('swarm.store_contention', 'cluster store: too many concurrent changes to overlay networks; try again');

async function listValues<T>(kv: KeyValueStore, prefix: string): Promise<{ items: { key: string; value: T; modRevision: number }[]; revision: number }> {
  const r = await kv.list(prefix);
  return { items: r.items.map((i) => ({ key: i.key, value: JSON.parse(i.value) as T, modRevision: i.modRevision })), revision: r.revision };
}

export async function listNetworks(kv: KeyValueStore): Promise<OverlayNetworkRecord[]> {
  return (await listValues<OverlayNetworkRecord>(kv, NETWORKS_PREFIX)).items.map((i) => i.value);
}

/** The first free VNI from VNI_FIRST. */
export function freeVni(used: number[]): number {
  const taken = new Set(used);
  for (let v = VNI_FIRST; v <= VNI_LAST; v++) if (!taken.has(v)) return v;
  throw new Unavailable('network.vni_exhausted', 'no free VXLAN id left');
}

/** The first `size` block of the pools that overlaps no taken subnet (Docker's default pool: 10.0.0.0/24, 10.0.1.0/24, ...). */
export function freeSubnet(pool: AddressPool, taken: Cidr[]): Cidr {
  for (const p of pool.pools) {
    const base = parseCidr(p)?.cidr;
    if (!base || pool.subnetSize < base.prefix) continue;
    const step = 2 ** (32 - pool.subnetSize);
    for (let b = base.base; b < base.base + size(base); b += step) {
      const c: Cidr = { base: b >>> 0, prefix: pool.subnetSize };
      if (!taken.some((t) => overlaps(t, c))) return c;
    }
  }
  throw new Forbidden('network.pools_exhausted', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

export async function createNetwork(kv: KeyValueStore, id: string, req: NetworkRequest, pool: AddressPool): Promise<OverlayNetworkRecord> {
  for (let round = 0; round < ROUNDS; round++) {
    const guard = await kv.get(ALLOC_KEY);
    const nets = await listNetworks(kv);
    if (nets.some((n) => n.name === req.name)) throw new Conflict('network.name_in_use', `network with name ${req.name} already exists`);
    const taken = nets.map((n) => parseCidr(n.subnet)!.cidr);
    let subnet: Cidr, gateway: number, range: Cidr | undefined;
    if (req.plan) {
      ({ subnet, gateway, range } = req.plan(taken));
    } else {
      subnet = freeSubnet(pool, taken);
      gateway = nth(subnet, 1);
    }
    const rec: OverlayNetworkRecord = {
      id, name: req.name, created: new Date().toISOString(), vni: freeVni(nets.map((n) => n.vni)),
      subnet: formatCidr(subnet), gateway: formatIp(gateway), userSubnet: !!req.plan,
      internal: req.internal, attachable: req.attachable, options: req.options, labels: req.labels,
    };
    if (range && (range.base !== subnet.base || range.prefix !== subnet.prefix)) rec.ipRange = formatCidr(range);
    const r = await kv.txn({
      compare: [{ key: ALLOC_KEY, modRevision: guard?.modRevision ?? 0 }, { key: networkKey(id), modRevision: 0 }],
      success: [{ put: ALLOC_KEY, value: id }, { put: networkKey(id), value: JSON.stringify(rec) }],
    });
    if (r.succeeded) return rec;
  }
  throw lostRaces();
}

/** Docker's `ingress` network, made with the swarm: the first subnet of the pool (10.0.0.0/24), VNI 4096. */
export function ingressNetworkOps(id: string, pool: AddressPool, now: string): { rec: OverlayNetworkRecord; ops: TxnOp[] } {
  const subnet = freeSubnet(pool, []);
  const rec: OverlayNetworkRecord = {
    id, name: 'ingress', created: now, vni: VNI_FIRST, subnet: formatCidr(subnet), gateway: formatIp(nth(subnet, 1)), userSubnet: false,
    internal: false, attachable: false, options: {}, labels: {}, ingress: true,
  };
  return { rec, ops: [{ put: ALLOC_KEY, value: id }, { put: networkKey(id), value: JSON.stringify(rec) }] };
}

/** Removes the network and everything under it, unless an endpoint uses it (Docker's words in `inUse`). */
export async function removeNetwork(kv: KeyValueStore, id: string, inUse: (containerId: string) => Error, inUseByService?: (serviceId: string) => Error): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const net = await kv.get(networkKey(id));
    if (!net) throw new NotFound('network.not_found', `network ${id} not found`);
    const vips = await kv.list(`${VIPS_PREFIX}${id}/`);
    if (vips.items.length) {
      const sid = (JSON.parse(vips.items[0]!.value) as VipRecord).serviceId;
      throw inUseByService ? inUseByService(sid) : inUse(sid);
    }
    const users = await kv.get(usersKey(id));
    const leases = await kv.list(`${IPAM_PREFIX}${id}/`);
    const eps = await listValues<OverlayEndpointRecord>(kv, `${ENDPOINTS_PREFIX}${id}/`);
    if (eps.items.length) throw inUse(eps.items[0]!.value.containerId);
    // a lease without its endpoint yet: a container between its address and its CNI ADD
    if (leases.items.length) throw inUse((JSON.parse(leases.items[0]!.value) as { containerId: string }).containerId);
    const guard = await kv.get(ALLOC_KEY);
    const r = await kv.txn({
      compare: [{ key: networkKey(id), modRevision: net.modRevision }, { key: usersKey(id), modRevision: users?.modRevision ?? 0 }, { key: ALLOC_KEY, modRevision: guard?.modRevision ?? 0 }],
      success: [
        { delete: networkKey(id) }, { delete: usersKey(id) }, { put: ALLOC_KEY, value: id },
        { deletePrefix: `${ENDPOINTS_PREFIX}${id}/` }, { deletePrefix: `${IPAM_PREFIX}${id}/` }, { deletePrefix: `${PEERS_PREFIX}${id}/` },
        { deletePrefix: `${VIPS_PREFIX}${id}/` },
      ],
    });
    if (r.succeeded) return;
  }
  throw lostRaces();
}

export async function leasedAddresses(kv: KeyValueStore, netId: string): Promise<Set<number>> {
  const leases = await kv.list(`${IPAM_PREFIX}${netId}/`);
  return new Set(leases.items.map((i) => parseIp(i.key.slice(i.key.lastIndexOf('/') + 1))!));
}

/** The first address of the network's range that is no gateway, network or broadcast address and not in `used`. */
export function freeAddress(net: OverlayNetworkRecord, used: Set<number>): number {
  const subnet = parseCidr(net.subnet)!.cidr;
  const range = net.ipRange ? parseCidr(net.ipRange)!.cidr : subnet;
  const gateway = parseIp(net.gateway)!;
  for (let i = 1; i < size(range); i++) {
    const c = (range.base + i) >>> 0;
    if (c === gateway || c === subnet.base || c === broadcast(subnet) || used.has(c)) continue;
    return c;
  }
  throw new Unavailable('network.no_address', `no available IPv4 addresses on this network's address pools: ${net.name} (${net.id})`);
}

/** The first free address of the network (or `wanted`), leased to the container; the network must still exist. */
export async function allocateAddress(kv: KeyValueStore, netId: string, owner: { containerId: string; nodeId: string }, wanted?: string): Promise<{ ip: string; prefix: number; gateway: string }> {
  for (let round = 0; round < ROUNDS; round++) {
    const netKv = await kv.get(networkKey(netId));
    if (!netKv) throw new NotFound('network.not_found', `network ${netId} not found`);
    const net = JSON.parse(netKv.value) as OverlayNetworkRecord;
    const subnet = parseCidr(net.subnet)!.cidr;
    const used = await leasedAddresses(kv, netId);
    let ip: number | undefined;
    if (wanted) {
      ip = parseIp(wanted);
      if (ip === undefined || !contains(subnet, ip)) throw new InvalidParameter('network.static_ip', `no configured subnet or ip-range contain the IP address ${wanted}`);
      if (used.has(ip)) throw new Conflict('network.address_in_use', `Address already in use`);
    } else {
      ip = freeAddress(net, used);
    }
    const addr = formatIp(ip);
    const r = await kv.txn({
      compare: [{ key: networkKey(netId), modRevision: netKv.modRevision }, { key: ipKey(netId, addr), modRevision: 0 }],
      success: [{ put: ipKey(netId, addr), value: JSON.stringify(owner) }, { put: usersKey(netId), value: owner.containerId }],
    });
    if (r.succeeded) return { ip: addr, prefix: subnet.prefix, gateway: net.gateway };
  }
  throw lostRaces();
}

/** Frees the container's address and endpoint record (only the container's own: a reused address stays). */
export async function releaseAddress(kv: KeyValueStore, netId: string, containerId: string, ip: string): Promise<void> {
  const lease = await kv.get(ipKey(netId, ip));
  const ops: TxnOp[] = [{ delete: endpointKey(netId, containerId) }];
  if (lease && (JSON.parse(lease.value) as { containerId: string }).containerId === containerId) ops.push({ delete: ipKey(netId, ip) });
  await kv.txn({ compare: lease ? [{ key: ipKey(netId, ip), modRevision: lease.modRevision }] : [], success: ops });
}

/**
 * What a node holds on every overlay network, gone: its address leases (its
 * containers' and its ingress address), endpoint records and peer entries.
 * For a node that leaves or is removed, so that its addresses are free again
 * and no other node keeps forwarding to it or lists it among the peers. Each
 * key is deleted only as read: a lease taken again meanwhile stays.
 */
export async function releaseNodeNetworking(kv: KeyValueStore, nodeId: string): Promise<number> {
  const [leases, endpoints, peers] = await Promise.all([IPAM_PREFIX, ENDPOINTS_PREFIX, PEERS_PREFIX].map((p) => kv.list(p)));
  const owned = (v: string) => (JSON.parse(v) as { nodeId?: string }).nodeId === nodeId;
  const doomed = [
    ...leases!.items.filter((i) => owned(i.value)),
    ...endpoints!.items.filter((i) => owned(i.value)),
    ...peers!.items.filter((i) => parseOverlayKey(i.key)?.sub === nodeId),
  ];
  // one small transaction per key: etcd caps the operations of one, and a raced key only skips itself
  for (const i of doomed) await kv.txn({ compare: [{ key: i.key, modRevision: i.modRevision }], success: [{ delete: i.key }] });
  return doomed.length;
}

/** Publishes an endpoint, if its network still exists. */
export async function putEndpoint(kv: KeyValueStore, netId: string, ep: OverlayEndpointRecord): Promise<void> {
  const net = await kv.get(networkKey(netId));
  if (!net) throw new NotFound('network.not_found', `network ${netId} not found`);
  const r = await kv.txn({ compare: [{ key: networkKey(netId), modRevision: net.modRevision }], success: [{ put: endpointKey(netId, ep.containerId), value: JSON.stringify(ep) }] });
  if (!r.succeeded) throw new NotFound('network.not_found', `network ${netId} not found`);
}

/** Says this node has the network set up (inspect's Peers), if the network still exists. */
export async function putPeer(kv: KeyValueStore, netId: string, nodeId: string, peer: PeerRecord): Promise<void> {
  const net = await kv.get(networkKey(netId));
  if (!net) return;
  await kv.txn({ compare: [{ key: networkKey(netId), modRevision: net.modRevision }], success: [{ put: peerKey(netId, nodeId), value: JSON.stringify(peer) }] });
}

/** The parts of a key under OVERLAY_PREFIX: kind, network id, and the rest (container or node id). */
export function parseOverlayKey(key: string): { kind: 'networks' | 'endpoints' | 'peers' | 'vips'; net: string; sub?: string } | undefined {
  if (!key.startsWith(OVERLAY_PREFIX)) return undefined;
  const [kind, net, sub] = key.slice(OVERLAY_PREFIX.length).split('/');
  if ((kind !== 'networks' && kind !== 'endpoints' && kind !== 'peers' && kind !== 'vips') || !net) return undefined;
  if (kind !== 'networks' && !sub) return undefined;
  return { kind, net, ...(sub ? { sub } : {}) };
}

/** The network and address of a lease key (ipam/<net>/<ip>). */
export function parseLeaseKey(key: string): { net: string; ip: string } | undefined {
  if (!key.startsWith(IPAM_PREFIX)) return undefined;
  const [net, ip] = key.slice(IPAM_PREFIX.length).split('/');
  return net && ip ? { net, ip } : undefined;
}

