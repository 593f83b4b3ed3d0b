/**
 * A container's networking: checked at create, set up before its task
 * starts (a network namespace under the exec root, the CNI plugins of each
 * network it joins, host ports, /etc/hosts and resolv.conf) and torn down
 * after it exits. What was set up is written down first (endpoints/<id>.json
 * in the data root), so a crash never strands an address, a veth or a rule:
 * start-up DELs whatever belongs to no running container.
 *
 *   await net.plan(rec);                 // create: NetworkSettings.Networks, checks
 *   const s = await net.attach(rec);     // start: { netnsPath, network: Promise<{ hosts, resolvConf }> }
 *   await net.detach(rec);               // exit
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { EndpointSettings, PortMap } from '../../api/types/index.js';
import { Conflict, Forbidden, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { readJson, writeJsonAtomic } from '../../lib/atomic-file.js';
import { run } from '../../lib/exec.js';
import { newId } from '../../lib/ids.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';
import type { AttachedNetwork, NetworkFiles } from '../containers/environment.js';
import type { ContainerRecord } from '../containers/record.js';
import type { EventBus } from '../events/event-bus.js';
import { runtimeConfig, type NetworkConfList, type RuntimeConfig } from './cni-config.js';
import type { CniResult, CniRunner } from './cni.js';
import type { DnsServer } from './dns-server.js';
import { checkMacvlanParent } from './drivers/macvlan.js';
import type { HostPorts } from './host-ports.js';
import { checkStaticIp } from './ipam.js';
import type { NetnsDir } from './netns.js';
import type { NetworkRecord, NetworkStore } from './network-store.js';
import { portMap, portMappings, type PortMapping } from './ports.js';
import { EMBEDDED_DNS, embeddedDnsRules, hostsFile, resolvConf, type ResolvMode } from './sandbox-files.js';
import type { NetworkService } from './service.js';
import { involvesPlugin, PluginEndpoints, type PluginAttachment } from './plugin-endpoints.js';

interface Attachment extends PluginAttachment {
  networkId: string;
  ifName: string;
  confList: NetworkConfList;
  rc: RuntimeConfig;
  result?: CniResult;
  /** Overlay networks: the address leased in the cluster store (released after the DEL). */
  clusterIp?: string;
}

/** endpoints/<container id>.json */
interface SandboxState {
  containerId: string;
  netns: string;
  attachments: Attachment[];
}

export interface ContainerAccess {
  get(ref: string): ContainerRecord;
  save(rec: ContainerRecord): Promise<void>;
  /** Runs `fn` under the container's lock (no start/stop meanwhile). */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** A file the daemon wrote for a container: hosts, resolv.conf, hostname. */
  readFile(id: string, name: 'hosts' | 'resolv.conf'): Promise<string>;
}

export interface ContainerNetworkingDeps {
  networks: NetworkService;
  store: NetworkStore;
  netns: NetnsDir;
  cni: CniRunner;
  ports: HostPorts;
  events: EventBus;
  log: Logger;
  containers: ContainerAccess;
  hostResolvConf?: string;
}

/** Drivers whose networks a container joins through CNI (the others are host and none). */
const CNI_DRIVERS = new Set(['bridge', 'macvlan', 'overlay']);

/** Networks a container joins with others: CNI ones and network plugins' (not host or none). */
function joinable(n: NetworkRecord): boolean {
  return CNI_DRIVERS.has(n.driver) || !!n.remote;
}

type Mode = { kind: 'bridge' } | { kind: 'host' } | { kind: 'none' } | { kind: 'container'; ref: string };

export function networkMode(rec: ContainerRecord): Mode {
  const m = rec.hostConfig.NetworkMode || 'default';
  if (m === 'host') return { kind: 'host' };
  if (m === 'none') return { kind: 'none' };
  if (m.startsWith('container:')) return { kind: 'container', ref: m.slice('container:'.length) };
  return { kind: 'bridge' };
}

function emptyEndpoint(n: NetworkRecord, cfg: EndpointSettings | undefined): EndpointSettings {
  return {
    IPAMConfig: cfg?.IPAMConfig ?? null, Links: cfg?.Links ?? null, Aliases: cfg?.Aliases ?? null, MacAddress: '',
    DriverOpts: cfg?.DriverOpts ?? null, NetworkID: n.id, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0,
    IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

export class ContainerNetworking {
  /** DNS servers inside containers' namespaces (macvlan primaries), by container id. */
  private readonly inNetnsDns = new Map<string, DnsServer>();
  private readonly pluginEndpoints: PluginEndpoints;

  constructor(private readonly d: ContainerNetworkingDeps) {
    this.pluginEndpoints = new PluginEndpoints({ networks: d.networks, cni: d.cni, ipamDir: d.store.ipamDir, log: d.log });
  }

  private statePath(id: string): string {
    return join(this.d.store.endpointsDir, `${id}.json`);
  }

  private async readState(id: string): Promise<SandboxState | undefined> {
    return readJson<SandboxState>(this.statePath(id)).catch(() => undefined);
  }

  // ------------------------------------------------------------------ create

  /** Checks the network settings of a new container and fills its NetworkSettings.Networks. */
  async plan(rec: ContainerRecord, endpointsConfig: Record<string, EndpointSettings> | null | undefined): Promise<void> {
    const hc = rec.hostConfig;
    const mode = networkMode(rec);
    const endpoints = endpointsConfig ?? {};
    const hasPorts = Object.keys(hc.PortBindings ?? {}).length > 0 || !!hc.PublishAllPorts;
    const userHostname = rec.config.Hostname !== rec.id.slice(0, 12);
    if (mode.kind === 'container') {
      if (userHostname) throw new InvalidParameter('network.hostname_conflict', 'conflicting options: hostname and the network mode');
      if (hasPorts) throw new InvalidParameter('network.ports_conflict', 'conflicting options: port publishing and the container type network mode');
      if (hc.Dns?.length || hc.ExtraHosts?.length) throw new InvalidParameter('network.dns_conflict', 'conflicting options: dns and the network mode');
      const other = this.d.containers.get(mode.ref);
      if (other.id === rec.id) throw new InvalidParameter('network.join_self', 'cannot join own network');
      rec.config.Hostname = other.config.Hostname;
      rec.networkSettings.Networks = {};
      return;
    }
    if (mode.kind === 'host' || mode.kind === 'none') {
      const n = this.d.networks.get(mode.kind);
      if (mode.kind === 'host' && !userHostname) rec.config.Hostname = osHostname();
      rec.networkSettings.Networks = { [n.name]: emptyEndpoint(n, endpoints[n.name]) };
      return;
    }
    if (hasPorts) portMappings(rec.config.ExposedPorts, hc.PortBindings, !!hc.PublishAllPorts); // validates
    const primaryRef = hc.NetworkMode === 'default' || !hc.NetworkMode ? 'bridge' : hc.NetworkMode;
    const refs = [primaryRef, ...Object.keys(endpoints).filter((k) => k !== primaryRef && k !== 'default' && this.d.networks.find(k)?.id !== this.d.networks.find(primaryRef)?.id)];
    const out: Record<string, EndpointSettings> = {};
    for (const ref of refs) {
      const n = this.d.networks.get(ref);
      if (!joinable(n)) {
        throw new InvalidParameter('network.mixed_modes', `container cannot be connected to network ${n.name} and to other networks`);
      }
      // a swarm task joins its service's networks, attachable or not (dockerd: a cluster-managed container)
      if (!rec.managed) checkAttachable(n, ref);
      const cfg = endpoints[ref] ?? (ref === primaryRef ? endpoints.default : undefined);
      this.checkEndpoint(n, cfg);
      out[n.name] = emptyEndpoint(n, cfg);
    }
    rec.networkSettings.Networks = out;
  }

  private checkEndpoint(n: NetworkRecord, cfg: EndpointSettings | undefined): void {
    if (n.driver === 'overlay' && cfg?.IPAMConfig?.IPv4Address && !n.userSubnet) {
      throw new InvalidParameter('network.static_ip', 'user specified IP address is supported only when connecting to networks with user configured subnets');
    }
    const ip = cfg?.IPAMConfig?.IPv4Address;
    if (ip && this.d.networks.reserved(n).includes(checkStaticIp(ip, this.d.networks.plan(n)))) {
      throw new Forbidden('network.static_ip', 'Address already in use'); // an --aux-address (libnetwork's words)
    }
    if (cfg?.Aliases?.length && n.predefined) {
      throw new InvalidParameter('network.alias_default_bridge', 'network-scoped alias is supported only for containers in user defined networks');
    }
  }

  // ------------------------------------------------------------------ start and exit

  /**
   * Resolves once the container's namespace exists (what the runtime's
   * create needs); its interfaces are set up in `network` meanwhile.
   */
  async attach(rec: ContainerRecord): Promise<AttachedNetwork> {
    const mode = networkMode(rec);
    const hostResolv = await readFile(this.d.hostResolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => '');
    const dns = { dns: rec.hostConfig.Dns ?? [], search: rec.hostConfig.DnsSearch ?? [], options: rec.hostConfig.DnsOptions ?? [] };
    if (mode.kind === 'container') return this.joinContainer(mode.ref);
    if (mode.kind === 'host') {
      const hosts = await readFile('/etc/hosts', 'utf8').catch(() => hostsFile(rec.config.Hostname, '', [], []));
      return { network: Promise.resolve({ hosts, resolvConf: resolvConf(hostResolv, { kind: 'host' }, dns) }) };
    }
    const nets = Object.keys(rec.networkSettings.Networks).map((name) => this.d.networks.get(rec.networkSettings.Networks[name]?.NetworkID || name));
    // a macvlan container is on the parent's LAN itself: no host ports, as with libnetwork
    const maps = mode.kind === 'bridge' && nets[0]?.driver === 'bridge' ? portMappings(rec.config.ExposedPorts, rec.hostConfig.PortBindings, !!rec.hostConfig.PublishAllPorts) : [];
    // host ports first: a taken port is refused before anything exists
    const reserved = maps.length ? await this.d.ports.reserve(rec.id, rec.name, maps) : [];
    const state: SandboxState = { containerId: rec.id, netns: this.d.netns.path(rec.id), attachments: [] };
    try {
      await writeJsonAtomic(this.statePath(rec.id), state);
      await this.d.netns.create(rec.id);
    } catch (err) {
      await this.teardown(rec.id, state);
      throw err;
    }
    const network = this.configure(rec, state, mode, nets, reserved, hostResolv, dns);
    network.catch(() => {}); // the caller awaits it; until then a failure must not count as unhandled
    return { netnsPath: state.netns, network };
  }

  /** The interfaces of every network in the namespace, the host ports' routes, the embedded DNS. */
  private async configure(
    rec: ContainerRecord, state: SandboxState, mode: Mode, nets: NetworkRecord[], reserved: PortMapping[],
    hostResolv: string, dns: { dns: string[]; search: string[]; options: string[] },
  ): Promise<NetworkFiles> {
    const primary = nets[0];
    try {
      if (mode.kind === 'bridge') {
        for (const [i, n] of nets.entries()) await this.addEndpoint(rec, state, n, `eth${i}`, i === 0 ? reserved : []);
      }
      rec.networkSettings.Ports = mode.kind === 'bridge' ? portMap(rec.config.ExposedPorts, reserved) : {};
      rec.networkSettings.SandboxKey = state.netns;
      const primaryEp = primary && mode.kind === 'bridge' ? rec.networkSettings.Networks[primary.name] : undefined;
      if (primaryEp?.IPAddress) this.d.ports.route(rec.id, primaryEp.IPAddress);
      const ips = primaryEp?.IPAddress ? [primaryEp.IPAddress] : [];
      const embedded = !!primary && !primary.predefined && mode.kind === 'bridge' && !!primaryEp?.IPAddress;
      if (embedded) {
        // a macvlan gateway is a router on the LAN, not this host: the server comes into the namespace instead
        if (primary.driver === 'macvlan' || primary.remote) this.inNetnsDns.set(rec.id, await this.d.networks.serveDnsIn(primary, state.netns));
        else await this.routeEmbeddedDns(state.netns, state.attachments[0]!.ifName, this.d.networks.gateway(primary), primaryEp!.IPAddress!);
      }
      const extraHosts = (rec.hostConfig.ExtraHosts ?? []).map((h) => h.replace(/:host-gateway$/, `:${this.d.networks.defaultGateway()}`));
      const resolvMode: ResolvMode = embedded ? { kind: 'embedded', server: EMBEDDED_DNS } : { kind: 'default' };
      return {
        hosts: hostsFile(rec.config.Hostname, rec.config.Domainname, ips, extraHosts),
        resolvConf: resolvConf(hostResolv, resolvMode, dns),
      };
    } catch (err) {
      await this.teardown(rec.id, state);
      throw err;
    }
  }

  /** 127.0.0.11:53 in the container's namespace to the network's DNS server (embeddedDnsRules). */
  private async routeEmbeddedDns(netns: string, ifName: string, gateway: string, containerIp: string): Promise<void> {
    await run('nsenter', [`--net=${netns}`, 'sh', '-c', `iptables-restore -w --noflush && echo 1 > /proc/sys/net/ipv4/conf/${ifName}/route_localnet`],
      { input: embeddedDnsRules(gateway, containerIp) });
  }

  private async joinContainer(ref: string): Promise<AttachedNetwork> {
    const other = this.d.containers.get(ref);
    if (!other.state.Running || other.state.Restarting) {
      throw new Conflict('network.join_not_running', `cannot join network namespace of a non running container: ${other.id}`);
    }
    const otherMode = networkMode(other);
    const netnsPath = otherMode.kind === 'host' ? '/proc/1/ns/net' : other.networkSettings.SandboxKey || `/proc/${other.state.Pid}/ns/net`;
    const [hosts, resolv] = await Promise.all([this.d.containers.readFile(other.id, 'hosts'), this.d.containers.readFile(other.id, 'resolv.conf')]);
    return { netnsPath, network: Promise.resolve({ hosts, resolvConf: resolv }) };
  }

  /** CNI ADD of one network into the sandbox; the intent is on disk before the plugins run. */
  private async addEndpoint(rec: ContainerRecord, state: SandboxState, n: NetworkRecord, ifName: string, ports: PortMapping[]): Promise<void> {
    const ep = rec.networkSettings.Networks[n.name] ?? emptyEndpoint(n, undefined);
    const staticIp = ep.IPAMConfig?.IPv4Address || undefined;
    if (involvesPlugin(n)) return this.addPluginEndpoint(rec, state, n, ifName, ports, ep);
    const overlay = n.driver === 'overlay' ? this.d.networks.overlayDriver() : undefined;
    let a: Attachment;
    if (overlay) {
      // the address comes from the cluster (no two nodes lease the same); written down before anything uses it
      const addr = await overlay.allocate(n, rec.id, staticIp);
      a = { networkId: n.id, ifName, confList: overlay.confList(n, addr), rc: {}, clusterIp: addr.ip };
    } else {
      a = { networkId: n.id, ifName, confList: this.d.networks.confList(n, staticIp), rc: runtimeConfig(ports, staticIp) };
      if (n.macvlan) await checkMacvlanParent(n.macvlan);
    }
    state.attachments.push(a);
    await writeJsonAtomic(this.statePath(rec.id), state);
    a.result = await this.d.cni.add(a.confList, { containerId: rec.id, netns: state.netns, ifName }, a.rc);
    await writeJsonAtomic(this.statePath(rec.id), state);
    const ipInfo = a.result.ips?.[0];
    const [addr = '', prefix = '0'] = (ipInfo?.address ?? '').split('/');
    const iface = a.result.interfaces?.find((i) => i.name === ifName && i.sandbox);
    const dnsNames = n.predefined ? null : this.d.networks.dnsNames(rec, ep.Aliases ?? []);
    if (overlay) {
      const serviceId = rec.config.Labels?.['com.docker.swarm.service.id'];
      await overlay.publish(n, { containerId: rec.id, name: rec.name, dnsNames: dnsNames ?? [], ip: addr, mac: iface?.mac ?? '', ...(serviceId ? { serviceId } : {}) }, state.netns);
    }
    rec.networkSettings.Networks[n.name] = {
      // an internal macvlan endpoint has no gateway (no default route), as in libnetwork
      ...ep, NetworkID: n.id, EndpointID: newId(), Gateway: n.driver === 'macvlan' && n.internal ? '' : ipInfo?.gateway ?? '', IPAddress: addr, IPPrefixLen: Number(prefix),
      MacAddress: iface?.mac ?? '', DNSNames: dnsNames,
    };
    this.d.events.publish('network', 'connect', n.id, { container: rec.id, name: n.name, type: n.driver });
  }

  /** addEndpoint for networks with a plugin (plugin-endpoints.ts): on failure nothing of it stays, in the state either. */
  private async addPluginEndpoint(rec: ContainerRecord, state: SandboxState, n: NetworkRecord, ifName: string, ports: PortMapping[], ep: EndpointSettings): Promise<void> {
    const staticIp = ep.IPAMConfig?.IPv4Address || undefined;
    const a: Attachment = { networkId: n.id, ifName, confList: { cniVersion: '1.0.0', name: '', plugins: [] }, rc: runtimeConfig(ports) };
    state.attachments.push(a);
    const save = () => writeJsonAtomic(this.statePath(rec.id), state);
    let addr;
    try {
      await save();
      addr = await this.pluginEndpoints.add(n, a, { containerId: rec.id, netns: state.netns, ifName }, { staticIp, primary: state.attachments.length === 1, save });
    } catch (err) {
      state.attachments = state.attachments.filter((x) => x !== a);
      await save();
      throw err;
    }
    rec.networkSettings.Networks[n.name] = {
      ...ep, NetworkID: n.id, EndpointID: a.remote?.endpointId ?? newId(), Gateway: addr.gateway, IPAddress: addr.ip, IPPrefixLen: addr.prefix,
      MacAddress: addr.mac, DNSNames: n.predefined ? null : this.d.networks.dnsNames(rec, ep.Aliases ?? []),
    };
    this.d.events.publish('network', 'connect', n.id, { container: rec.id, name: n.name, type: n.driver });
  }

  /** After the task exited: DEL every endpoint, the namespace and the host ports go. */
  async detach(rec: ContainerRecord): Promise<void> {
    const state = await this.readState(rec.id);
    if (state) await this.teardown(rec.id, state);
    else this.d.ports.release(rec.id);
    for (const [name, ep] of Object.entries(rec.networkSettings.Networks)) {
      if (ep.EndpointID) this.d.events.publish('network', 'disconnect', ep.NetworkID ?? '', { container: rec.id, name, type: 'bridge' });
      rec.networkSettings.Networks[name] = { ...ep, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', DNSNames: null };
    }
    rec.networkSettings.Ports = {};
    rec.networkSettings.SandboxKey = '';
  }

  private async teardown(id: string, state: SandboxState): Promise<void> {
    this.inNetnsDns.get(id)?.close();
    this.inNetnsDns.delete(id);
    for (const a of [...state.attachments].reverse()) {
      if (a.remote || a.pluginAddress) {
        await this.pluginEndpoints.remove(a, { containerId: id, netns: state.netns, ifName: a.ifName });
        continue;
      }
      await this.d.cni.del(a.confList, { containerId: id, netns: state.netns, ifName: a.ifName }, a.rc, a.result)
        .catch((err: Error) => this.d.log.warn('CNI DEL failed', { id, error: err.message }));
      await this.releaseClusterIp(id, a);
    }
    this.d.ports.release(id);
    await this.d.netns.remove(id).catch((err: Error) => this.d.log.warn('netns removal failed', { id, error: err.message }));
    await rm(this.statePath(id), { force: true });
  }

  /** An overlay address goes back to the cluster (a store that cannot answer leaves it to the next start's resync). */
  private async releaseClusterIp(id: string, a: Attachment): Promise<void> {
    if (!a.clusterIp) return;
    try {
      await this.d.networks.overlayDriver().release(a.networkId, id, a.clusterIp);
    } catch (err) {
      this.d.log.warn('overlay address release failed', { id, network: a.networkId, error: (err as Error).message });
    }
  }

  // ------------------------------------------------------------------ connect / disconnect

  async connect(netRef: string, containerRef: string, cfg: EndpointSettings | undefined): Promise<void> {
    const n = this.d.networks.get(netRef);
    const rec = this.d.containers.get(containerRef);
    await this.d.containers.withLock(rec.id, async () => {
      const mode = networkMode(rec);
      if (!joinable(n) || mode.kind !== 'bridge') {
        throw new InvalidParameter('network.mixed_modes', n.driver === 'host' || mode.kind === 'host'
          ? 'container cannot be disconnected from host network or connected to host network'
          : 'container cannot be connected to multiple networks with one of the networks in private (none) mode');
      }
      if (rec.networkSettings.Networks[n.name]) throw new Forbidden('network.already_connected', `endpoint with name ${rec.name} already exists in network ${n.name}`);
      checkAttachable(n, netRef);
      this.checkEndpoint(n, cfg ?? undefined);
      rec.networkSettings.Networks[n.name] = emptyEndpoint(n, cfg ?? undefined);
      const state = rec.state.Running ? await this.readState(rec.id) : undefined;
      if (state) {
        const used = new Set(state.attachments.map((a) => a.ifName));
        let i = 0;
        while (used.has(`eth${i}`)) i++;
        try {
          await this.addEndpoint(rec, state, n, `eth${i}`, []);
        } catch (err) {
          state.attachments = state.attachments.filter((a) => a.networkId !== n.id || a.result);
          await writeJsonAtomic(this.statePath(rec.id), state);
          delete rec.networkSettings.Networks[n.name];
          throw err;
        }
      }
      await this.d.containers.save(rec);
    });
  }

  async disconnect(netRef: string, containerRef: string, force: boolean): Promise<void> {
    const rec = this.d.containers.get(containerRef);
    const n = this.d.networks.find(netRef);
    if (!n) {
      if (force) return;
      throw new NotFound('network.not_found', `network ${netRef} not found`);
    }
    await this.d.containers.withLock(rec.id, async () => {
      const ep = rec.networkSettings.Networks[n.name];
      if (!ep) throw new InvalidParameter('network.not_connected', `container ${rec.id} is not connected to network ${n.name}`);
      if (!joinable(n)) throw new InvalidParameter('network.mixed_modes', 'container cannot be disconnected from host network or connected to host network');
      const state = rec.state.Running ? await this.readState(rec.id) : undefined;
      const a = state?.attachments.find((x) => x.networkId === n.id);
      if (state && a) {
        if (a.remote || a.pluginAddress) await this.pluginEndpoints.remove(a, { containerId: rec.id, netns: state.netns, ifName: a.ifName });
        else await this.d.cni.del(a.confList, { containerId: rec.id, netns: state.netns, ifName: a.ifName }, a.rc, a.result);
        await this.releaseClusterIp(rec.id, a);
        state.attachments = state.attachments.filter((x) => x !== a);
        await writeJsonAtomic(this.statePath(rec.id), state);
        this.d.events.publish('network', 'disconnect', n.id, { container: rec.id, name: n.name, type: n.driver });
      }
      delete rec.networkSettings.Networks[n.name];
      await this.d.containers.save(rec);
    });
  }

  // ------------------------------------------------------------------ daemon start-up

  /**
   * After containers were restored: tears down every sandbox that belongs
   * to no running container (it died while berthd was down, or berthd
   * crashed half-way), and holds the host ports of the running ones again.
   */
  async reconcile(records: ContainerRecord[]): Promise<void> {
    const running = new Map(records.filter((r) => r.state.Running).map((r) => [r.id, r]));
    let files: string[] = [];
    try {
      files = await readdir(this.d.store.endpointsDir);
    } catch {
      // none yet
    }
    const kept = new Set<string>();
    for (const f of files) {
      const id = f.replace(/\.json$/, '');
      const state = await this.readState(id);
      if (!state) {
        await rm(join(this.d.store.endpointsDir, f), { force: true });
        continue;
      }
      const rec = running.get(id);
      if (rec) {
        kept.add(id.slice(0, 12));
        const held = heldPorts(rec.networkSettings.Ports);
        if (held.length) await this.d.ports.reserve(id, rec.name, held).catch((err: Error) => this.d.log.warn('could not hold host ports again', { id, error: err.message }));
        const primary = Object.values(rec.networkSettings.Networks)[0];
        if (primary?.IPAddress) this.d.ports.route(id, primary.IPAddress);
        const n = primary?.IPAddress ? this.d.networks.find(primary.NetworkID ?? '') : undefined;
        if (n?.driver === 'macvlan' || n?.remote) {
          // the DNS socket in its namespace went with the old daemon
          await this.d.networks.serveDnsIn(n, state.netns).then((s) => this.inNetnsDns.set(id, s), cleanupFailed(this.d.log, 'serve DNS in a container again', { id }));
        }
        continue;
      }
      this.d.log.info('removing the network of a container that is not running', { id });
      await this.teardown(id, state);
    }
    for (const short of await this.d.netns.list()) {
      if (!kept.has(short)) await this.d.netns.remove(short).catch(cleanupFailed(this.d.log, 'remove a leftover network namespace', { netns: short }));
    }
  }
}

/** Standalone containers join only overlay networks created with --attachable (dockerd's words). */
function checkAttachable(n: NetworkRecord, ref: string): void {
  if (n.driver === 'overlay' && !n.attachable) {
    throw new Forbidden('network.not_attachable', `Could not attach to network ${ref}: rpc error: code = PermissionDenied desc = network ${n.name} not manually attachable`);
  }
}

/** The host ports a running container holds, from its NetworkSettings.Ports. */
function heldPorts(ports: PortMap): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    for (const b of bindings ?? []) {
      out.push({ hostIp: b.HostIp, hostPort: Number(b.HostPort), containerPort: Number(port), protocol: proto as PortMapping['protocol'] });
    }
  }
  return out;
}
