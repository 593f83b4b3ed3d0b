/**
 * Networks: the Engine API's network objects (create, ls, inspect, rm,
 * prune) and what they are on the host: a bridge device with the gateway
 * address, berth's per-network iptables rules, and a DNS server on the
 * gateway of each user-defined network. Containers join them through
 * ContainerNetworking (sandbox.ts).
 *
 *   await networks.init();            // records, predefined networks, bridges, rules, DNS
 *   await networks.create({ Name: 'app', IPAM: { Config: [{ Subnet: '10.9.0.0/24' }] } });
 *   await networks.shutdown(false);   // clean stop: DNS, rules and bridges go
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IpamConfig, Network, NetworkContainer, NetworkCreateRequest, NetworkPruneResponse } from '../../api/types/index.js';
import { createdAfter, Filters } from '../../api/filters.js';
import { Conflict, Forbidden, InvalidParameter, NotFound, Unavailable } from '../../errdefs/index.js';
import { newId, newIdFromUrandom } from '../../lib/ids.js';
import { isoString } from '../../lib/utc-text.js';
import { formatIp, parseCidr, parseIp, type Cidr } from '../../lib/ipv4.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';
import type { ContainerRecord } from '../containers/record.js';
import type { EventBus } from '../events/event-bus.js';
import { bridgeConfList, cniNetworkName, type NetworkConfList } from './cni-config.js';
import { DnsServer } from './dns-server.js';
import { refuseIpvlan } from './drivers/ipvlan.js';
import { createNetworkOptions, ipv4Data, releasePluginPool, requestPluginPool, type PluginPool } from './drivers/remote.js';
import type { IpamDriverProxy, NetworkDriverProxy, RemoteNetworkPlugins } from '../plugins/network-driver.js';
import { ensureMacvlanParent, macvlanConfig, macvlanConfList, PARENT_OPTION, removeMacvlanParent } from './drivers/macvlan.js';
import { applyFirewall, chainNames, removeFirewall, removeIdlePortmapChains, type FirewallChains } from './firewall.js';
import { auxAddresses, hostRoutes, ipamConfigOf, pickSubnet, planFromBip, planFromConfig, type AddressPlan } from './ipam.js';
import { deleteLink, ensureBridge, linkExists, validBridgeName } from './links.js';
import type { NetworkRecord, NetworkStore } from './network-store.js';
import { bindUdpInNetns } from './netns-socket.js';
import { EMBEDDED_DNS, hostNameservers } from './sandbox-files.js';

export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
const LIST_FILTERS = new Set(['driver', 'id', 'label', 'label!', 'name', 'scope', 'type', 'dangling']);
const NOT_IN_SWARM = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);

/** Overlay networks (overlay/overlay-networks.ts), present once the daemon has a swarm service. */
export interface OverlayDriver {
  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }>;
  remove(n: NetworkRecord): Promise<void>;
  /** Addresses of a name on the network, on any node. */
  lookup(networkId: string, name: string): number[] | undefined;
  peers(networkId: string): { Name: string; IP: string }[];
  /** A container's address on the network, cluster-wide; then its CNI config; then its endpoint for the other nodes. */
  allocate(n: NetworkRecord, containerId: string, wanted?: string): Promise<OverlayAddress>;
  confList(n: NetworkRecord, addr: OverlayAddress): NetworkConfList;
  /** `netnsPath`: the container's namespace, which gets the network's service VIP rules. */
  publish(n: NetworkRecord, ep: { containerId: string; name: string; dnsNames: string[]; ip: string; mac: string; serviceId?: string }, netnsPath?: string): Promise<void>;
  release(networkId: string, containerId: string, ip: string): Promise<void>;
}

export interface OverlayAddress {
  ip: string;
  prefix: number;
  gateway: string;
}

export interface NetworkServiceDeps {
  store: NetworkStore;
  events: EventBus;
  log: Logger;
  /** Every container record (the live index). */
  containers: () => ContainerRecord[];
  /** The default bridge's device name and `--bip` (empty: pick a free subnet the first time). */
  bridgeName: string;
  bip: string;
  /** The host's resolv.conf, read for DNS forwarding. */
  hostResolvConf?: string;
  /** Network and IPAM plugins (remote drivers). */
  plugins?: RemoteNetworkPlugins;
}

/** Drivers berth has built in; any other name is a network plugin's. */
const BUILTIN_DRIVERS = new Set(['bridge', 'macvlan', 'overlay', 'host', 'null', 'ipvlan']);

function unknownPlugin(code: string, name: string): NotFound {
  return new NotFound(code, `could not find plugin ${name} in v1 plugin registry: plugin not found`);
}

/** `dangling` of `network ls`: one value, `true`/`1` or `false`/`0` (dockerd's own words, not GetBoolOrDefault's). */
function danglingOnly(filters: Filters): boolean | undefined {
  const values = filters.get('dangling');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw Filters.invalid('got more than one value for filter key "dangling"');
  if (values[0] === '1' || values[0] === 'true') return true;
  if (values[0] === '0' || values[0] === 'false') return false;
  throw Filters.invalid('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
}

export class NetworkService {
  private readonly dns = new Map<string, DnsServer>();
  private readonly chains: FirewallChains;
  private upstreams: string[] = [];
  private overlay: OverlayDriver | undefined;

  constructor(private readonly d: NetworkServiceDeps) {
    this.chains = chainNames(d.bridgeName);
  }

  // ------------------------------------------------------------------ daemon start and stop

  useOverlay(o: OverlayDriver): void {
    this.overlay = o;
  }

  /** The overlay driver, for a container joining an overlay network. */
  overlayDriver(): OverlayDriver {
    if (!this.overlay) throw new Unavailable('swarm.not_in_swarm', 'This node is not part of a swarm');
    return this.overlay;
  }

  async init(): Promise<void> {
    await this.d.store.init();
    this.upstreams = hostNameservers(await readFile(this.d.hostResolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => ''));
    await this.ensurePredefined();
    for (const n of this.bridges()) await ensureBridge(n.bridge!, this.gatewayCidr(n));
    await this.applyRules();
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1').catch((err: Error) => this.d.log.warn('could not enable ip_forward', { error: err.message }));
    for (const n of this.bridges()) if (!n.predefined) await this.startDns(n);
  }

  /** Clean stop (not live-restore): DNS servers, berth's rules and bridges go; nothing is left. */
  async shutdown(keepRunning: boolean): Promise<void> {
    for (const s of this.dns.values()) s.close();
    this.dns.clear();
    if (keepRunning) return;
    await removeFirewall(this.chains);
    for (const n of this.bridges()) await deleteLink(n.bridge!).catch((err: Error) => this.d.log.warn('bridge delete failed', { bridge: n.bridge, error: err.message }));
    await removeIdlePortmapChains();
  }

  private async ensurePredefined(): Promise<void> {
    const now = isoString();
    const base = { created: now, internal: false, attachable: false, userSubnet: false, labels: {}, predefined: true };
    if (!this.d.store.byName('none')) {
      await this.d.store.save({ ...base, id: await newIdFromUrandom(), name: 'none', driver: 'null', ipam: { driver: 'default', options: null, config: [] }, options: {} });
    }
    if (!this.d.store.byName('host')) {
      await this.d.store.save({ ...base, id: await newIdFromUrandom(), name: 'host', driver: 'host', ipam: { driver: 'default', options: null, config: [] }, options: {} });
    }
    const existing = this.d.store.byName('bridge');
    if (existing && existing.bridge === this.d.bridgeName && (!this.d.bip || this.d.bip === this.gatewayCidr(existing))) return;
    // first start, or --bridge / --bip changed: plan the default bridge again
    if (existing) {
      await deleteLink(existing.bridge!).catch(cleanupFailed(this.d.log, 'delete a bridge', { bridge: existing.bridge }));
      await this.d.store.delete(existing.id);
    }
    const taken = await this.takenSubnets();
    const plan = this.d.bip ? planFromBip(this.d.bip, taken) : pickSubnet(taken);
    await this.d.store.save({
      ...base, id: existing?.id ?? (await newIdFromUrandom()), name: 'bridge', driver: 'bridge', bridge: this.d.bridgeName,
      ipam: { driver: 'default', options: null, config: [ipamConfigOf(plan)] },
      options: {
        'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        [BRIDGE_NAME_OPTION]: this.d.bridgeName, 'com.docker.network.driver.mtu': '1500',
      },
    });
  }

  private bridges(): NetworkRecord[] {
    return this.d.store.list().filter((n) => n.driver === 'bridge');
  }

  private async applyRules(): Promise<void> {
    const nets = this.d.store.list().filter((n) => n.driver === 'bridge' || n.driver === 'overlay');
    await applyFirewall(this.chains, nets.map((n) => ({ bridge: n.bridge!, subnet: n.ipam.config[0]!.Subnet!, internal: n.internal })));
  }

  /** A network of the cluster set up on this node (its devices exist): record, rules, DNS. */
  async adoptOverlay(rec: NetworkRecord): Promise<void> {
    await this.d.store.save(rec);
    await this.applyRules();
    if (!this.dns.has(rec.id)) await this.startDns(rec);
  }

  /** An overlay network leaving this node: its DNS, rules and record (the driver deletes the devices after). */
  async dropOverlay(id: string): Promise<void> {
    this.dns.get(id)?.close();
    this.dns.delete(id);
    await this.d.store.delete(id);
    await this.applyRules();
    await rm(join(this.d.store.ipamDir, cniNetworkName(id)), { recursive: true, force: true });
  }

  overlays(): NetworkRecord[] {
    return this.d.store.list().filter((n) => n.driver === 'overlay');
  }

  private async startDns(n: NetworkRecord): Promise<void> {
    const server = new DnsServer(n.ipam.config[0]!.Gateway!, (name) => this.lookup(n, name), () => this.upstreams, this.d.log);
    try {
      await server.start();
      this.dns.set(n.id, server);
    } catch (err) {
      this.d.log.warn('the DNS server of a network could not start', { network: n.name, error: (err as Error).message });
    }
  }

  /**
   * The network's DNS server inside one container's namespace, on
   * 127.0.0.11:53 itself: for networks whose gateway is not on this host
   * (macvlan), where 127.0.0.11 cannot be DNATed to a server here.
   */
  async serveDnsIn(n: NetworkRecord, netnsPath: string): Promise<DnsServer> {
    const socket = await bindUdpInNetns(netnsPath, EMBEDDED_DNS, 53);
    const server = new DnsServer(EMBEDDED_DNS, (name) => this.lookup(n, name), () => this.upstreams, this.d.log);
    server.serve(socket);
    return server;
  }

  /**
   * Subnets no new network may overlap: other networks' and the host's
   * routes. A macvlan subnet the user gives is the parent's LAN, which the
   * host may well route: only other networks count then.
   */
  private async takenSubnets(except?: string, hostRoutesToo = true): Promise<Cidr[]> {
    const own = this.d.store.list().filter((n) => n.id !== except && n.ipam.config[0]?.Subnet).map((n) => parseCidr(n.ipam.config[0]!.Subnet!)!.cidr);
    const routes = hostRoutesToo ? hostRoutes(await readFile('/proc/net/route', 'utf8').catch(() => '')) : [];
    return [...own, ...routes];
  }

  // ------------------------------------------------------------------ for containers

  /** The network plugin of a remote network (NotFound in Docker's words when it is not there). */
  async networkPlugin(name: string): Promise<NetworkDriverProxy> {
    if (!this.d.plugins) throw unknownPlugin('network.unknown_driver', name);
    return this.d.plugins.network(name).catch((err: Error) => {
      throw err instanceof NotFound ? unknownPlugin('network.unknown_driver', name) : err;
    });
  }

  /** The IPAM plugin of a network. */
  async ipamPlugin(name: string): Promise<IpamDriverProxy> {
    if (!this.d.plugins) throw unknownPlugin('network.unknown_ipam', name);
    return this.d.plugins.ipam(name).catch((err: Error) => {
      throw err instanceof NotFound ? unknownPlugin('network.unknown_ipam', name) : err;
    });
  }

  get(ref: string): NetworkRecord {
    return this.d.store.get(ref);
  }

  find(ref: string): NetworkRecord | undefined {
    return this.d.store.find(ref);
  }

  plan(n: NetworkRecord): AddressPlan {
    const c = n.ipam.config[0]!;
    const subnet = parseCidr(c.Subnet!)!.cidr;
    return { subnet, gateway: parseIp(c.Gateway!)!, range: c.IPRange ? parseCidr(c.IPRange)!.cidr : subnet, userConfigured: n.userSubnet };
  }

  /** The CNI list of one attachment to the network (a container's --ip may shape it). */
  confList(n: NetworkRecord, staticIp?: string): NetworkConfList {
    const name = cniNetworkName(n.id);
    if (n.driver === 'macvlan') {
      const plan = this.plan(n);
      const aux = auxAddresses(n.ipam.config[0]?.AuxiliaryAddresses, plan);
      return macvlanConfList({ name, state: n.macvlan!, plan, aux, ipamDir: this.d.store.ipamDir, internal: n.internal, staticIp: staticIp ? parseIp(staticIp) : undefined });
    }
    return bridgeConfList({ name, bridge: n.bridge!, plan: this.plan(n), ipamDir: this.d.store.ipamDir });
  }

  /** Addresses of the network that no container may have (--aux-address). */
  reserved(n: NetworkRecord): number[] {
    return auxAddresses(n.ipam.config[0]?.AuxiliaryAddresses, this.plan(n));
  }

  gateway(n: NetworkRecord): string {
    return n.ipam.config[0]?.Gateway ?? '';
  }

  private gatewayCidr(n: NetworkRecord): string {
    return `${n.ipam.config[0]!.Gateway}/${n.ipam.config[0]!.Subnet!.split('/')[1]}`;
  }

  /** Running containers with an endpoint on the network. */
  attached(n: NetworkRecord): ContainerRecord[] {
    return this.d.containers().filter((r) => r.state.Running && r.networkSettings.Networks[n.name]?.EndpointID);
  }

  /** The DNS names of a container on a network: name, short id, aliases, hostname. */
  dnsNames(rec: ContainerRecord, aliases: string[]): string[] {
    return [...new Set([rec.name, rec.id.slice(0, 12), ...aliases, rec.config.Hostname])];
  }

  private lookup(n: NetworkRecord, name: string): number[] | undefined {
    if (n.driver === 'overlay') return this.overlay?.lookup(n.id, name);
    const ips: number[] = [];
    for (const r of this.attached(n)) {
      const ep = r.networkSettings.Networks[n.name]!;
      if (ep.IPAddress && (ep.DNSNames ?? []).some((d) => d.toLowerCase() === name)) ips.push(parseIp(ep.IPAddress)!);
    }
    return ips.length ? ips : undefined;
  }

  // ------------------------------------------------------------------ API

  private view(n: NetworkRecord, withContainers: boolean): Network {
    const containers: Record<string, NetworkContainer> = {};
    if (withContainers) {
      for (const r of this.attached(n)) {
        const ep = r.networkSettings.Networks[n.name]!;
        containers[r.id] = {
          Name: r.name, EndpointID: ep.EndpointID ?? '', MacAddress: ep.MacAddress ?? '',
          IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '', IPv6Address: '',
        };
      }
    }
    return {
      Name: n.name, Id: n.id, Created: n.created, Scope: n.driver === 'overlay' ? 'swarm' : n.remote?.scope ?? 'local', Driver: n.driver, EnableIPv6: false,
      IPAM: { Driver: n.ipam.driver, Options: n.ipam.options, Config: n.ipam.config },
      Internal: n.internal, Attachable: n.attachable, Ingress: !!n.overlay?.ingress, ConfigFrom: { Network: '' }, ConfigOnly: false,
      Containers: containers, Options: n.options, Labels: n.labels,
      ...(n.driver === 'overlay' && withContainers ? { Peers: this.overlay?.peers(n.id) ?? [] } : {}),
    };
  }

  inspect(ref: string): Network {
    return this.view(this.d.store.get(ref), true);
  }

  list(filters: Filters): Network[] {
    filters.accept(LIST_FILTERS);
    const dangling = danglingOnly(filters);
    for (const t of filters.get('type')) if (t !== 'custom' && t !== 'builtin') throw Filters.invalid(`invalid filter: 'type'='${t}'`);
    return this.d.store.list().filter((n) => {
      if (!filters.exact('driver', n.driver) || !filters.prefix('id', n.id) || !filters.match('name', n.name)) return false;
      if (!filters.exact('scope', n.driver === 'overlay' ? 'swarm' : n.remote?.scope ?? 'local') || !filters.exact('type', n.predefined ? 'builtin' : 'custom')) return false;
      if (!filters.labels(n.labels)) return false;
      if (dangling !== undefined && dangling !== (!n.predefined && this.attached(n).length === 0)) return false;
      return true;
    }).map((n) => this.view(n, false));
  }

  async create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    const name = req.Name;
    if (!name) throw new InvalidParameter('network.no_name', 'network name must not be empty');
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw new Forbidden('network.predefined_driver', `only one instance of "${driver}" network is allowed`);
    if (driver === 'ipvlan') await refuseIpvlan();
    if (driver === 'overlay') {
      if (!this.overlay) throw new Unavailable('swarm.not_manager', NOT_IN_SWARM);
      if (this.d.store.byName(name)) throw new Conflict('network.name_in_use', `network with name ${name} already exists`);
      const made = await this.overlay.create(req);
      this.d.events.publish('network', 'create', made.Id, { name, type: 'overlay' });
      return made;
    }
    if (this.d.store.byName(name)) throw new Conflict('network.name_in_use', `network with name ${name} already exists`);
    const plugin = BUILTIN_DRIVERS.has(driver) ? undefined : await this.networkPlugin(driver);
    if (req.EnableIPv6) throw new InvalidParameter('network.ipv6', 'berth does not support IPv6 networks');
    if (req.ConfigOnly || req.ConfigFrom?.Network || req.Ingress) throw new InvalidParameter('network.swarm', 'config-only, config-from and ingress networks need swarm mode');
    const configs = (req.IPAM?.Config ?? []).filter((c) => !(c.Subnet ?? '').includes(':'));
    if (configs.length > 1) throw new InvalidParameter('network.invalid_ipam', 'berth supports one IPv4 subnet per network');
    const ipamDriver = req.IPAM?.Driver && req.IPAM.Driver !== 'default' ? req.IPAM.Driver : undefined;
    const ipam = ipamDriver ? await this.ipamPlugin(ipamDriver) : undefined;
    if (ipam && driver === 'macvlan') throw new InvalidParameter('network.unknown_ipam', 'berth does not support IPAM plugins on macvlan networks');
    if (driver === 'macvlan') return this.createMacvlan(req, configs[0]);
    const id = newId();
    const options = { ...(req.Options ?? {}) };
    const bridge = plugin ? undefined : options[BRIDGE_NAME_OPTION] || `br-${id.slice(0, 12)}`;
    if (bridge && !validBridgeName(bridge)) throw new InvalidParameter('network.invalid_bridge_name', `invalid bridge name: ${bridge}`);
    if (bridge && (this.bridges().some((n) => n.bridge === bridge) || (await linkExists(bridge)))) {
      throw new Conflict('network.bridge_in_use', `bridge name ${bridge} is already in use`);
    }
    let plan: AddressPlan;
    let pool: PluginPool | undefined;
    let addressSpace = 'LocalDefault'; // libnetwork's default IPAM's
    if (ipam) ({ plan, pool, addressSpace } = await requestPluginPool(ipam, configs[0], req.IPAM?.Options ?? {}));
    else {
      const taken = await this.takenSubnets();
      plan = configs[0] ? planFromConfig(configs[0], taken) : pickSubnet(taken);
    }
    const aux = plugin ? configs[0]?.AuxiliaryAddresses ?? {} : {}; // the bridge driver keeps none (as before)
    const rec: NetworkRecord = {
      id, name, created: new Date().toISOString(), driver: plugin ? driver : 'bridge', internal: !!req.Internal, attachable: !!req.Attachable,
      ipam: { driver: ipamDriver ?? 'default', options: req.IPAM?.Options ?? {}, config: [{ ...ipamConfigOf(plan), ...(Object.keys(aux).length ? { AuxiliaryAddresses: aux } : {}) }] },
      userSubnet: !!configs[0], options, labels: req.Labels ?? {}, ...(bridge ? { bridge } : {}), ...(pool ? { ipamPool: pool } : {}),
    };
    if (plugin) return this.createRemote(rec, plugin, ipam, plan, addressSpace);
    // the record first: a crash after it is repaired at start-up (bridges are ensured from records)
    await this.d.store.save(rec);
    try {
      await ensureBridge(bridge!, this.gatewayCidr(rec));
      await this.applyRules();
      await this.startDns(rec);
    } catch (err) {
      await this.teardown(rec).catch(cleanupFailed(this.d.log, 'tear down a network', { network: rec.id }));
      throw err;
    }
    this.d.events.publish('network', 'create', id, { name, type: 'bridge' });
    return { Id: id, Warning: '' };
  }

  /** A network plugin's network: its CreateNetwork first, the record once it said yes. */
  private async createRemote(rec: NetworkRecord, plugin: NetworkDriverProxy, ipam: IpamDriverProxy | undefined, plan: AddressPlan, addressSpace: string): Promise<{ Id: string; Warning: string }> {
    try {
      auxAddresses(rec.ipam.config[0]!.AuxiliaryAddresses, plan); // validates
      const caps = await plugin.capabilities();
      rec.remote = { scope: caps.scope };
      await plugin.createNetwork(rec.id, createNetworkOptions(rec.options, rec.internal), [ipv4Data(addressSpace, plan, rec.ipam.config[0]!.AuxiliaryAddresses ?? {})]);
    } catch (err) {
      if (ipam && rec.ipamPool) await releasePluginPool(ipam, rec.ipamPool, this.d.log);
      throw err;
    }
    try {
      await this.d.store.save(rec);
    } catch (err) {
      await plugin.deleteNetwork(rec.id).catch(cleanupFailed(this.d.log, 'delete a plugin network', { network: rec.id }));
      if (ipam && rec.ipamPool) await releasePluginPool(ipam, rec.ipamPool, this.d.log);
      throw err;
    }
    this.d.events.publish('network', 'create', rec.id, { name: rec.name, type: rec.driver });
    return { Id: rec.id, Warning: '' };
  }

  private async createMacvlan(req: NetworkCreateRequest, cfg: IpamConfig | undefined): Promise<{ Id: string; Warning: string }> {
    const id = newId();
    const options = { ...(req.Options ?? {}) };
    const wanted = macvlanConfig(id, options, this.d.store.list());
    const taken = await this.takenSubnets(undefined, !cfg);
    const plan = cfg ? planFromConfig(cfg, taken) : pickSubnet(taken);
    const aux = cfg?.AuxiliaryAddresses ?? {};
    auxAddresses(aux, plan); // validates
    const macvlan = await ensureMacvlanParent(wanted, id);
    const rec: NetworkRecord = {
      // no parent: libnetwork's dummy parent reaches nothing, so the network is internal
      id, name: req.Name, created: new Date().toISOString(), driver: 'macvlan', internal: !!req.Internal || !options[PARENT_OPTION],
      attachable: !!req.Attachable, ipam: { driver: 'default', options: req.IPAM?.Options ?? {}, config: [{ ...ipamConfigOf(plan), ...(Object.keys(aux).length ? { AuxiliaryAddresses: aux } : {}) }] },
      userSubnet: !!cfg, options, labels: req.Labels ?? {}, macvlan,
    };
    try {
      await this.d.store.save(rec);
    } catch (err) {
      await removeMacvlanParent(macvlan, this.d.store.list()).catch(cleanupFailed(this.d.log, 'remove a macvlan parent link', { link: macvlan.parent }));
      throw err;
    }
    this.d.events.publish('network', 'create', id, { name: req.Name, type: 'macvlan' });
    return { Id: id, Warning: '' };
  }

  private async teardown(n: NetworkRecord): Promise<void> {
    this.dns.get(n.id)?.close();
    this.dns.delete(n.id);
    if (n.remote) {
      // libnetwork goes on with the removal when the plugin fails (it may have lost the network already)
      await this.networkPlugin(n.driver).then((p) => p.deleteNetwork(n.id)).catch(cleanupFailed(this.d.log, 'DeleteNetwork of a network plugin', { network: n.id }));
    }
    if (n.ipamPool) {
      await this.ipamPlugin(n.ipam.driver).then((p) => releasePluginPool(p, n.ipamPool!, this.d.log)).catch(cleanupFailed(this.d.log, 'release an IPAM plugin pool', { network: n.id }));
    }
    await this.d.store.delete(n.id);
    if (n.bridge) await deleteLink(n.bridge);
    if (n.macvlan) await removeMacvlanParent(n.macvlan, this.d.store.list()); // the record is gone already: only the others count
    await this.applyRules();
    await rm(join(this.d.store.ipamDir, cniNetworkName(n.id)), { recursive: true, force: true });
  }

  async remove(ref: string): Promise<void> {
    const n = this.d.store.get(ref);
    if (n.predefined) throw new Forbidden('network.predefined', `${n.name} is a pre-defined network and cannot be removed`);
    if (n.driver === 'overlay') {
      if (!this.overlay) throw new Unavailable('swarm.not_manager', NOT_IN_SWARM);
      await this.overlay.remove(n);
      this.d.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
      return;
    }
    const users = this.attached(n);
    if (users.length) {
      throw new Forbidden('network.in_use', `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    }
    await this.teardown(n);
    this.d.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
  }

  async prune(filters: Filters): Promise<NetworkPruneResponse> {
    const until = filters.accept(PRUNE_FILTERS).until();
    const deleted: string[] = [];
    for (const n of this.d.store.list()) {
      if (n.predefined || this.attached(n).length) continue;
      if (createdAfter(n.created, until) || !filters.labels(n.labels)) continue;
      try {
        await this.remove(n.id);
        deleted.push(n.name);
      } catch (err) {
        this.d.log.warn('network prune: removal failed', { network: n.name, error: (err as Error).message });
      }
    }
    this.d.events.publish('network', 'prune', '', {});
    return { NetworksDeleted: deleted.length ? deleted : null };
  }

  defaultGateway(): string {
    const b = this.d.store.byName('bridge');
    return b ? formatIp(parseIp(b.ipam.config[0]!.Gateway!)!) : '';
  }
}
