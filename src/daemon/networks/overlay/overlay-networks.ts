/**
 * The overlay driver of one node: while the node is in a swarm, it mirrors
 * the cluster's overlay records (cluster/network-records.ts) onto this
 * host. Every network gets its bridge and VXLAN device (vxlan.ts), a local
 * record (so `network ls`, containers and DNS see it as any other network)
 * and a peer key; every endpoint on another node becomes a static FDB and
 * neighbour entry; every endpoint anywhere answers its names in this node's
 * DNS for the network.
 *
 *   session start (swarm init/join, or berthd start in a swarm):
 *     list OVERLAY_PREFIX at revision R -> apply the whole state (set up what is
 *     missing, tear down local networks the cluster no longer has, sweep
 *     stray ov-/vx- links, drop this node's endpoints whose container is
 *     gone) -> watch from R+1, one event at a time
 *   leave: every overlay network goes from this node
 *
 * A lost or compacted watch starts the session again from a fresh list.
 * Requests (create, rm, container attach) write to the store and then apply
 * their own change at once, so the caller never waits for its own watch.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NetworkCreateRequest } from '../../../api/types/index.js';
import { InvalidParameter, NotFound, Unavailable } from '../../../errdefs/index.js';
import { parseIp, type Cidr } from '../../../lib/ipv4.js';
import type { Logger } from '../../../lib/logger.js';
import {
  allocateAddress, createNetwork, endpointKey, ENDPOINTS_PREFIX, OVERLAY_MTU, OVERLAY_PREFIX, parseLeaseKey, parseOverlayKey,
  putEndpoint, putPeer, releaseAddress, removeNetwork, VXLAN_PORT,
  type OverlayEndpointRecord, type OverlayNetworkRecord, type PeerRecord, type VipRecord,
} from '../../cluster/network-records.js';
import type { SwarmMembership } from '../../cluster/swarm-service.js';
import { readCluster } from '../../cluster/swarm-nodes.js';
import { newSwarmId } from '../../cluster/ids.js';
import { VipBalancer } from './vip-balancer.js';
import { IngressMesh, ingressEndpointId } from './ingress-mesh.js';
import { CNI_VERSION, cniNetworkName, type NetworkConfList } from '../cni-config.js';
import { planFromConfig } from '../ipam.js';
import type { NetworkRecord } from '../network-store.js';
import type { NetworkService, OverlayDriver } from '../service.js';
import { addPeer, currentPeers, ensureOverlayDevices, overlayDevices, overlayLinks, removeOverlayDevices, removePeer } from './vxlan.js';
import { deleteLink } from '../links.js';
import { isLeavingTaskContainer } from '../../cluster/leaving-task-container.js';

/** How long a network removal waits for the task containers of removed services to leave it. */
const LEAVING_WAIT_MS = 30_000;

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const WORKER = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";
const RESYNC_DELAY_MS = 1000;

export interface OverlayNetworksDeps {
  networks: NetworkService;
  log: Logger;
  /** Whether a container runs on this node (its endpoints are kept at a resync). */
  containerRunning: (id: string) => boolean;
}

interface Session {
  m: SwarmMembership;
  abort: AbortController;
  nets: Map<string, OverlayNetworkRecord>;
  /** network id -> container id -> endpoint */
  endpoints: Map<string, Map<string, OverlayEndpointRecord>>;
  peers: Map<string, Map<string, PeerRecord>>;
  /** network id -> service id -> the service's VIP there */
  vips: Map<string, Map<string, VipRecord>>;
  /** The first sync of the session is done. */
  synced?: boolean;
}

export class OverlayNetworks implements OverlayDriver {
  private session: Session | undefined;
  /** Every change to this host's devices runs here, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  private readonly balancer: VipBalancer;
  private readonly mesh: IngressMesh;

  constructor(private readonly d: OverlayNetworksDeps) {
    this.balancer = new VipBalancer({
      vips: (net) => this.session?.vips.get(net)?.values() ?? [],
      endpoints: (net) => this.session?.endpoints.get(net)?.values() ?? [],
    }, d.log);
    this.mesh = new IngressMesh({
      vips: (net) => this.session?.vips.get(net)?.values() ?? [],
      endpoints: (net) => this.session?.endpoints.get(net)?.values() ?? [],
    }, d.log);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  // ------------------------------------------------------------------ membership

  /**
   * The swarm membership changed (or was announced again): start, keep or
   * end the session. `stillMember`: no store, but the node has not left (its
   * swarm could not resume): the networks stay as they are, devices and all.
   */
  setMembership(m: SwarmMembership | undefined, stillMember = false): Promise<void> {
    const cur = this.session;
    if (cur && m && cur.m.store === m.store && cur.m.nodeId === m.nodeId) return Promise.resolve();
    if (cur) cur.abort.abort();
    this.session = undefined;
    if (!m) return stillMember ? Promise.resolve() : this.serial(() => this.leaveAll());
    const s: Session = { m, abort: new AbortController(), nets: new Map(), endpoints: new Map(), peers: new Map(), vips: new Map() };
    this.session = s;
    // resolves after the first sync (daemon start waits for it); the watch runs on in the background
    return this.serial(() => this.resync(s)).then((revision) => {
      void this.watchLoop(s, revision + 1);
    }, (err: Error) => {
      this.d.log.warn('overlay: first sync failed; retrying', { error: err.message });
      void this.watchLoop(s, 0);
    });
  }

  /** berthd stopping: the watch ends; devices stay for the next start (it re-reads and repairs). */
  stop(): void {
    this.session?.abort.abort();
    this.session = undefined;
  }

  /** Clean daemon stop (not live-restore): the devices go with the bridges, as the bridge driver's do. */
  async shutdown(): Promise<void> {
    this.stop();
    await this.serial(async () => {
      await this.mesh.teardown(false);
      for (const n of this.d.networks.overlays()) await removeOverlayDevices(n.bridge!, n.overlay!.vxlan).catch(() => {});
    });
  }

  /** Watches from `from` (0: list again first); after any loss, lists again and goes on. */
  private async watchLoop(s: Session, from: number): Promise<void> {
    while (!s.abort.signal.aborted) {
      try {
        if (!from) from = (await this.serial(() => this.resync(s))) + 1;
        for await (const ev of s.m.store.watch(OVERLAY_PREFIX, { fromRevision: from, signal: s.abort.signal })) {
          await this.serial(() => this.onEvent(s, ev.type, ev.key, ev.value));
          from = ev.modRevision + 1;
        }
      } catch (err) {
        if (s.abort.signal.aborted) return;
        this.d.log.warn('overlay: watch ended; listing again', { error: (err as Error).message });
      }
      from = 0;
      if (s.abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, RESYNC_DELAY_MS));
    }
  }

  // ------------------------------------------------------------------ the whole state

  /** Lists everything and makes this host match it; returns the revision read. */
  private async resync(s: Session): Promise<number> {
    const r = await s.m.store.list(OVERLAY_PREFIX);
    if (s.abort.signal.aborted) return r.revision;
    s.nets.clear();
    s.endpoints.clear();
    s.peers.clear();
    s.vips.clear();
    for (const kv of r.items) this.remember(s, 'put', kv.key, kv.value);
    for (const n of this.d.networks.overlays()) {
      if (!s.nets.has(n.id)) await this.teardown(s, n.id);
    }
    for (const net of s.nets.values()) await this.setUp(s, net);
    await this.sweepLinks();
    // this node's containers (running since before a restart too) get their VIP rules again
    for (const n of this.d.networks.overlays()) {
      for (const c of this.d.networks.attached(n)) if (c.networkSettings.SandboxKey) this.balancer.join(c.id, c.networkSettings.SandboxKey, n.id);
      this.balancer.changed(n.id);
    }
    // only at the first sync: later ones (after a lost watch) may meet a container between its lease and its start
    if (!s.synced) await this.releaseStale(s, r.items);
    s.synced = true;
    return r.revision;
  }

  /**
   * Leases and endpoints of this node whose container no longer runs: it
   * died while berthd was down, or berthd crashed between the lease and the
   * endpoint, or the store could not answer when it left.
   */
  private async releaseStale(s: Session, items: { key: string; value: string }[]): Promise<void> {
    const stale = new Map<string, { net: string; containerId: string; ip: string }>();
    for (const [net, eps] of s.endpoints) {
      for (const ep of eps.values()) if (ep.nodeId === s.m.nodeId) stale.set(`${net}/${ep.containerId}`, { net, containerId: ep.containerId, ip: ep.ip });
    }
    for (const kv of items) {
      const lease = parseLeaseKey(kv.key);
      if (!lease) continue;
      const owner = JSON.parse(kv.value) as { containerId: string; nodeId: string };
      if (owner.nodeId === s.m.nodeId) stale.set(`${lease.net}/${owner.containerId}`, { net: lease.net, containerId: owner.containerId, ip: lease.ip });
    }
    for (const x of stale.values()) {
      if (this.d.containerRunning(x.containerId) || x.containerId === ingressEndpointId(s.m.nodeId)) continue;
      this.d.log.info('overlay: releasing the address of a container that no longer runs', { network: x.net, container: x.containerId, ip: x.ip });
      s.endpoints.get(x.net)?.delete(x.containerId);
      await releaseAddress(s.m.store, x.net, x.containerId, x.ip).catch((err: Error) => this.d.log.warn('overlay: release failed', { error: err.message }));
    }
  }

  /** Stray overlay links (of networks removed while this node was away) go. */
  private async sweepLinks(): Promise<void> {
    const known = new Set(this.d.networks.overlays().flatMap((n) => [n.bridge!, n.overlay!.vxlan]));
    for (const link of await overlayLinks()) {
      if (known.has(link)) continue;
      this.d.log.info('overlay: deleting a leftover device', { link });
      await deleteLink(link).catch((err: Error) => this.d.log.warn('overlay: could not delete a leftover device', { link, error: (err as Error).message }));
    }
  }

  /** Updates the in-memory copy only. */
  private remember(s: Session, type: 'put' | 'delete', key: string, value: string): ReturnType<typeof parseOverlayKey> {
    const k = parseOverlayKey(key);
    if (!k) return undefined;
    if (k.kind === 'networks') {
      if (type === 'put') s.nets.set(k.net, JSON.parse(value) as OverlayNetworkRecord);
      else s.nets.delete(k.net);
    } else {
      const map = k.kind === 'endpoints' ? s.endpoints : k.kind === 'vips' ? s.vips : s.peers;
      let inner = map.get(k.net) as Map<string, unknown> | undefined;
      if (!inner) map.set(k.net, (inner = new Map()) as never);
      if (type === 'put') inner.set(k.sub!, JSON.parse(value));
      else inner.delete(k.sub!);
    }
    return k;
  }

  private async onEvent(s: Session, type: 'put' | 'delete', key: string, value: string): Promise<void> {
    if (s.abort.signal.aborted) return;
    const before = key.startsWith(ENDPOINTS_PREFIX) ? this.endpointAt(s, key) : undefined;
    const k = this.remember(s, type, key, value);
    if (!k) return;
    try {
      if (k.kind === 'networks') {
        if (type === 'put') await this.setUp(s, s.nets.get(k.net)!);
        else await this.teardown(s, k.net);
      } else if (k.kind === 'vips') {
        this.balancer.changed(k.net);
        if (this.mesh.isIngress(k.net)) await this.mesh.apply();
      } else if (k.kind === 'endpoints') {
        this.balancer.changed(k.net);
        if (this.mesh.isIngress(k.net)) await this.mesh.apply();
        const rec = this.d.networks.find(k.net);
        if (!rec?.overlay) return;
        if (before && before.nodeId !== s.m.nodeId) await removePeer(rec.overlay.vxlan, before.ip, before.mac);
        const ep = s.endpoints.get(k.net)?.get(k.sub!);
        if (type === 'put' && ep && ep.nodeId !== s.m.nodeId) await addPeer(rec.overlay.vxlan, ep.ip, ep.mac, ep.vtep);
      }
    } catch (err) {
      this.d.log.warn('overlay: could not apply a change', { key, error: (err as Error).message });
    }
  }

  private endpointAt(s: Session, key: string): OverlayEndpointRecord | undefined {
    const k = parseOverlayKey(key);
    return k?.kind === 'endpoints' ? s.endpoints.get(k.net)?.get(k.sub!) : undefined;
  }

  /** Devices, local record, rules, DNS, the peer key, and the FDB/neighbour entries of remote endpoints. */
  private async setUp(s: Session, net: OverlayNetworkRecord): Promise<void> {
    const { bridge, vxlan } = overlayDevices(net.id);
    const prefix = net.subnet.split('/')[1];
    await ensureOverlayDevices({ bridge, vxlan, vni: net.vni, local: s.m.advertiseIp, port: VXLAN_PORT, mtu: OVERLAY_MTU, gatewayCidr: `${net.gateway}/${prefix}` });
    await this.d.networks.adoptOverlay(localRecord(net, bridge, vxlan));
    const remote = [...(s.endpoints.get(net.id)?.values() ?? [])].filter((ep) => ep.nodeId !== s.m.nodeId);
    for (const ep of remote) await addPeer(vxlan, ep.ip, ep.mac, ep.vtep);
    // entries of endpoints that went while this node was not watching (its devices outlive berthd)
    const cur = await currentPeers(vxlan);
    const macs = new Set(remote.map((ep) => ep.mac));
    const ips = new Set(remote.map((ep) => ep.ip));
    for (const [mac] of cur.fdb) if (!macs.has(mac)) await removePeer(vxlan, '', mac);
    for (const [ip] of cur.neigh) if (!ips.has(ip)) await removePeer(vxlan, ip, '');
    if (!s.peers.get(net.id)?.has(s.m.nodeId)) {
      await putPeer(s.m.store, net.id, s.m.nodeId, { name: s.m.hostname, ip: s.m.advertiseIp });
    }
    if (net.ingress) await this.mesh.setUp(s.m, net, bridge).catch((err: Error) => this.d.log.warn('ingress: could not set up the routing mesh', { error: err.message }));
  }

  private async teardown(s: Session | undefined, id: string): Promise<void> {
    const rec = this.d.networks.find(id);
    if (!rec || rec.driver !== 'overlay') return;
    for (const c of this.d.networks.attached(rec)) {
      this.d.log.warn('overlay: the network was removed from the cluster while a container of this node used it', { network: rec.name, container: c.id });
    }
    if (this.mesh.isIngress(id)) await this.mesh.teardown(false);
    await this.d.networks.dropOverlay(id);
    await removeOverlayDevices(rec.bridge!, rec.overlay!.vxlan);
    if (s) {
      s.endpoints.delete(id);
      s.peers.delete(id);
      s.vips.delete(id);
    }
  }

  private async leaveAll(): Promise<void> {
    this.balancer.clear();
    for (const n of this.d.networks.overlays()) await this.teardown(undefined, n.id);
  }

  // ------------------------------------------------------------------ API (NetworkService)

  private manager(): Session {
    const s = this.session;
    if (!s) throw new Unavailable('swarm.not_manager', NOT_MANAGER);
    if (s.m.role !== 'manager') throw new Unavailable('swarm.not_manager', WORKER);
    return s;
  }

  async create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    const s = this.manager();
    const options = { ...(req.Options ?? {}) };
    if ('encrypted' in options) {
      throw new InvalidParameter('network.encrypted', 'berth cannot encrypt overlay traffic: this kernel has no IPsec (ESP/xfrm) support; create the network without --opt encrypted');
    }
    if (req.EnableIPv6) throw new InvalidParameter('network.ipv6', 'berth does not support IPv6 networks');
    if (req.ConfigOnly || req.ConfigFrom?.Network || req.Ingress) throw new InvalidParameter('network.swarm', 'berth does not support config-only, config-from or ingress networks');
    if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw new NotFound('network.unknown_ipam', `could not find plugin ${req.IPAM.Driver} in v1 plugin registry: plugin not found`);
    const configs = (req.IPAM?.Config ?? []).filter((c) => !(c.Subnet ?? '').includes(':'));
    if (configs.length > 1) throw new InvalidParameter('network.invalid_ipam', 'berth supports one IPv4 subnet per network');
    const { record: cluster } = await readCluster(s.m.store);
    const cfg = configs[0];
    const net = await createNetwork(s.m.store, newSwarmId(), {
      name: req.Name, internal: !!req.Internal, attachable: !!req.Attachable, options, labels: req.Labels ?? {},
      ...(cfg ? { plan: (taken: Cidr[]) => planFromConfig(cfg, taken) } : {}),
    }, { pools: cluster.defaultAddrPool?.length ? cluster.defaultAddrPool : ['10.0.0.0/8'], subnetSize: cluster.subnetSize || 24 });
    await this.serial(async () => {
      if (this.session !== s) return;
      s.nets.set(net.id, net);
      await this.setUp(s, net);
    });
    return { Id: net.id, Warning: '' };
  }

  async remove(n: NetworkRecord): Promise<void> {
    const s = this.manager();
    // swarmkit's words; berth has no attachment tasks, so the "task" is the container's id, cut to a task id's length
    const inUse = (containerId: string) => Object.assign(new InvalidParameter('network.in_use_by_task',
      `rpc error: code = FailedPrecondition desc = network ${n.id} is in use by task ${containerId.slice(0, 25)}`), { containerId });
    // task containers on their way out (a service just removed: `docker stack rm`) are waited for, not refused
    const deadline = Date.now() + LEAVING_WAIT_MS;
    for (;;) {
      try {
        await removeNetwork(s.m.store, n.id, inUse, (serviceId) => new InvalidParameter('network.in_use_by_service',
          `rpc error: code = FailedPrecondition desc = network ${n.id} is in use by service ${serviceId}`));
        break;
      } catch (err) {
        const containerId = (err as { containerId?: string }).containerId;
        if (containerId === undefined || Date.now() > deadline) throw err;
        const ep = await s.m.store.get(endpointKey(n.id, containerId));
        const name = ep ? (JSON.parse(ep.value) as OverlayEndpointRecord).name : undefined;
        if (!(await isLeavingTaskContainer(s.m.store, { containerId, ...(name ? { name } : {}) }))) throw err;
        await sleep(250);
      }
    }
    await this.serial(async () => {
      if (this.session !== s) return;
      s.nets.delete(n.id);
      await this.teardown(s, n.id);
    });
  }

  /** A service name or alias in endpoint mode vip answers its VIP; `tasks.<service>` and dnsrr names the task addresses. */
  lookup(networkId: string, name: string): number[] | undefined {
    for (const v of this.session?.vips.get(networkId)?.values() ?? []) {
      if (v.names.some((n) => n.toLowerCase() === name)) return [parseIp(v.ip)!];
    }
    const eps = this.session?.endpoints.get(networkId);
    if (!eps) return undefined;
    const ips: number[] = [];
    for (const ep of eps.values()) if (ep.dnsNames.some((d) => d.toLowerCase() === name)) ips.push(parseIp(ep.ip)!);
    return ips.length ? ips : undefined;
  }

  peers(networkId: string): { Name: string; IP: string }[] {
    return [...(this.session?.peers.get(networkId)?.values() ?? [])].map((p) => ({ Name: p.name, IP: p.ip }));
  }

  // ------------------------------------------------------------------ endpoints (ContainerNetworking)

  private member(): Session {
    const s = this.session;
    if (!s) throw new Unavailable('swarm.not_in_swarm', 'This node is not part of a swarm');
    return s;
  }

  /** A cluster-wide address for the container on the network (the caller CNI-ADDs it, then publishes). */
  async allocate(n: NetworkRecord, containerId: string, wanted?: string): Promise<{ ip: string; prefix: number; gateway: string }> {
    const s = this.member();
    return allocateAddress(s.m.store, n.id, { containerId, nodeId: s.m.nodeId }, wanted);
  }

  /** The container's endpoint, for every node's FDB, neighbours and DNS. */
  async publish(n: NetworkRecord, ep: Omit<OverlayEndpointRecord, 'nodeId' | 'vtep'>, netnsPath?: string): Promise<void> {
    const s = this.member();
    const rec: OverlayEndpointRecord = { ...ep, nodeId: s.m.nodeId, vtep: s.m.advertiseIp };
    await putEndpoint(s.m.store, n.id, rec);
    // this node's DNS answers at once, not after its own watch event
    let eps = s.endpoints.get(n.id);
    if (!eps) s.endpoints.set(n.id, (eps = new Map()));
    eps.set(ep.containerId, rec);
    if (netnsPath) this.balancer.join(ep.containerId, netnsPath, n.id);
    this.balancer.changed(n.id);
    // the container starts with its VIP rules in place
    await this.balancer.settled();
  }

  async release(networkId: string, containerId: string, ip: string): Promise<void> {
    const s = this.session;
    if (!s) return;
    s.endpoints.get(networkId)?.delete(containerId);
    this.balancer.leave(containerId, networkId);
    this.balancer.changed(networkId);
    await releaseAddress(s.m.store, networkId, containerId, ip);
  }

  /** CNI for a container on an overlay network: a veth on the network's bridge, the address given (static IPAM), MTU 1450. */
  confList(n: NetworkRecord, addr: { ip: string; prefix: number; gateway: string }): NetworkConfList {
    return {
      cniVersion: CNI_VERSION,
      name: cniNetworkName(n.id),
      plugins: [{
        type: 'bridge', bridge: n.bridge!, isGateway: true, ipMasq: false, hairpinMode: true, mtu: OVERLAY_MTU,
        ipam: {
          type: 'static', addresses: [{ address: `${addr.ip}/${addr.prefix}`, gateway: addr.gateway }],
          // --internal: no way out, not even a default route (as Docker's internal overlay)
          routes: n.internal ? [] : [{ dst: '0.0.0.0/0' }],
        },
      }],
    };
  }
}

/** The local copy of a cluster network (network-store.ts), as `network ls/inspect` and the sandbox read it. */
export function localRecord(net: OverlayNetworkRecord, bridge: string, vxlan: string): NetworkRecord {
  const ipam: NetworkRecord['ipam']['config'][number] = { Subnet: net.subnet, Gateway: net.gateway };
  if (net.ipRange) ipam.IPRange = net.ipRange;
  return {
    id: net.id, name: net.name, created: net.created, driver: 'overlay', internal: net.internal, attachable: net.attachable,
    ipam: { driver: 'default', options: null, config: [ipam] }, userSubnet: net.userSubnet,
    options: { ...net.options, 'com.docker.network.driver.overlay.vxlanid_list': String(net.vni) }, labels: net.labels, bridge,
    overlay: { vni: net.vni, vxlan, ...(net.ingress ? { ingress: true } : {}) },
  };
}
