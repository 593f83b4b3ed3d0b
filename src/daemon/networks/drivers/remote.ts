/**
 * Networks and endpoints of remote drivers (network plugins, as
 * libnetwork's drivers/remote) and addresses of remote IPAM drivers.
 *
 * A network: the pool (berth's IPAM, or the plugin's RequestPool and its
 * gateway), then the plugin's CreateNetwork with it; DeleteNetwork at rm.
 * An endpoint, when a container starts or connects:
 *
 *   address (host-local, or IPAM RequestAddress) -> CreateEndpoint {Interface: {Address}}
 *   -> Join {SandboxKey} -> SrcName moved into the sandbox, renamed DstPrefix+N,
 *      its MAC (CreateEndpoint's answer), address, default route via Gateway, StaticRoutes
 *
 * and back in reverse when it stops or disconnects: the link goes back to
 * the host under its SrcName (the plugin deletes it), Leave, DeleteEndpoint.
 * Each step is recorded in the attachment, so a failure half-way (or a
 * crash) undoes exactly what was done.
 */
import { InvalidParameter, SystemError } from '../../../errdefs/index.js';
import { run } from '../../../lib/exec.js';
import { formatCidr, parseCidr, parseIp } from '../../../lib/ipv4.js';
import type { Logger } from '../../../lib/logger.js';
import { GATEWAY_LABEL, REQUEST_ADDRESS_TYPE, type IpamDriverProxy, type Ipv4Data, type JoinAnswer, type NetworkDriverProxy } from '../../plugins/network-driver.js';
import { CNI_VERSION, type NetworkConfList } from '../cni-config.js';
import type { AddressPlan } from '../ipam.js';
import { hostLocalRanges } from './host-local.js';

/** What a remote network records: the plugin's scope. */
export interface RemoteState {
  scope: 'local' | 'global';
}

/** A pool of a remote IPAM driver, kept with the network for its release. */
export interface PluginPool {
  poolId: string;
  /** The gateway requested from the plugin (released before the pool); none when RequestPool gave it. */
  gatewayRequested?: string;
}

/** One container's endpoint on a remote network, step by step. */
export interface RemoteEndpoint {
  driver: string;
  endpointId: string;
  created?: boolean;
  joined?: boolean;
  /** Set once the plugin's link is in the sandbox. */
  srcName?: string;
  dstName?: string;
}

/** A container's address from a remote IPAM driver. */
export interface PluginAddress {
  ipam: string;
  poolId: string;
  /** CIDR form, as the plugin gave it. */
  address: string;
}

const GATEWAY_OPTS = { [REQUEST_ADDRESS_TYPE]: GATEWAY_LABEL };
const LINK_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** The plan of a network whose pool comes from a remote IPAM driver; the gateway as libnetwork gets it. */
export async function requestPluginPool(ipam: IpamDriverProxy, cfg: { Subnet?: string; IPRange?: string; Gateway?: string } | undefined,
  options: Record<string, string>): Promise<{ plan: AddressPlan; pool: PluginPool; addressSpace: string }> {
  const spaces = await ipam.defaultAddressSpaces();
  const r = await ipam.requestPool({ AddressSpace: spaces.local, Pool: cfg?.Subnet ?? '', SubPool: cfg?.IPRange ?? '', Options: options });
  const release = () => ipam.releasePool(r.poolId).catch(() => {});
  const p = parseCidr(r.pool);
  if (!p) {
    await release();
    throw new SystemError('network.ipam_plugin', `IPAM driver ${ipam.name} returned an invalid pool: ${JSON.stringify(r.pool)}`);
  }
  let gateway: string | undefined;
  let requested: string | undefined;
  try {
    if (!cfg?.Gateway && r.data[GATEWAY_LABEL]) gateway = r.data[GATEWAY_LABEL];
    else {
      requested = await ipam.requestAddress(r.poolId, cfg?.Gateway ?? '', GATEWAY_OPTS);
      gateway = requested;
    }
  } catch (err) {
    await release();
    throw new SystemError('network.ipam_plugin', `failed to allocate gateway (${cfg?.Gateway ?? ''}): ${(err as Error).message}`, { cause: err });
  }
  const gw = parseIp(gateway.split('/')[0]!);
  if (gw === undefined) {
    if (requested) await ipam.releaseAddress(r.poolId, requested.split('/')[0]!).catch(() => {});
    await release();
    throw new SystemError('network.ipam_plugin', `failed to parse gateway address (${gateway}) returned by ipam driver`);
  }
  const range = cfg?.IPRange ? parseCidr(cfg.IPRange)?.cidr ?? p.cidr : p.cidr;
  return {
    addressSpace: spaces.local,
    plan: { subnet: p.cidr, gateway: gw, range, userConfigured: !!cfg?.Subnet },
    pool: { poolId: r.poolId, ...(requested ? { gatewayRequested: requested.split('/')[0]! } : {}) },
  };
}

export async function releasePluginPool(ipam: IpamDriverProxy, pool: PluginPool, log: Logger): Promise<void> {
  if (pool.gatewayRequested) {
    await ipam.releaseAddress(pool.poolId, pool.gatewayRequested).catch((err: Error) => log.warn('IPAM ReleaseAddress of a gateway failed', { error: err.message }));
  }
  await ipam.releasePool(pool.poolId).catch((err: Error) => log.warn('IPAM ReleasePool failed', { pool: pool.poolId, error: err.message }));
}

/** CreateNetwork's IPv4Data: the gateway and aux addresses in CIDR form, as libnetwork's IPAMData marshals them. */
export function ipv4Data(addressSpace: string, plan: AddressPlan, aux: Record<string, string>): Ipv4Data {
  const prefix = plan.subnet.prefix;
  const d: Ipv4Data = { AddressSpace: addressSpace, Pool: formatCidr(plan.subnet), Gateway: `${formatIpOf(plan.gateway)}/${prefix}` };
  if (Object.keys(aux).length) d.AuxAddresses = Object.fromEntries(Object.entries(aux).map(([k, v]) => [k, `${v}/${prefix}`]));
  return d;
}

/** CreateNetwork's Options, as libnetwork's network generic map: the -o options under com.docker.network.generic. */
export function createNetworkOptions(driverOpts: Record<string, string>, internal: boolean): Record<string, unknown> {
  return {
    'com.docker.network.enable_ipv4': true,
    'com.docker.network.enable_ipv6': false,
    'com.docker.network.generic': driverOpts,
    ...(internal ? { 'com.docker.network.internal': true } : {}),
  };
}

function formatIpOf(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A container's address from berth's IPAM on a remote network: host-local run on its own (no interface made). */
export function hostLocalOnly(name: string, plan: AddressPlan, aux: number[], ipamDir: string, staticIp?: number): NetworkConfList {
  return {
    cniVersion: CNI_VERSION,
    name,
    plugins: [{ type: 'host-local', ipam: { type: 'host-local', ranges: [hostLocalRanges(plan, aux, staticIp)], dataDir: ipamDir } }],
  };
}

/** `ip -batch` lines that put the plugin's link into the sandbox and set it up (pure). */
export function joinCommands(srcName: string, dstName: string, address: string, mac: string | undefined, ans: JoinAnswer, defaultRoute: boolean): string[] {
  const cmds = [`link set dev ${srcName} name ${dstName}`];
  if (mac) cmds.push(`link set dev ${dstName} address ${mac}`);
  cmds.push(`addr add ${address} dev ${dstName}`, `link set dev ${dstName} up`);
  if (ans.Gateway && defaultRoute) cmds.push(`route add default via ${ans.Gateway} dev ${dstName}`);
  for (const r of ans.StaticRoutes ?? []) {
    cmds.push(r.RouteType === 1 || !r.NextHop ? `route add ${r.Destination} dev ${dstName}` : `route add ${r.Destination} via ${r.NextHop} dev ${dstName}`);
  }
  return cmds;
}

/** Checks what a plugin's Join answer puts into ip(8) commands: names, addresses, routes. */
export function checkJoinAnswer(ans: JoinAnswer): { srcName: string; dstPrefix: string } {
  const srcName = ans.InterfaceName?.SrcName ?? '';
  const dstPrefix = ans.InterfaceName?.DstPrefix || 'eth';
  if (!LINK_NAME.test(srcName)) throw new InvalidParameter('network.remote_join', `the network plugin's Join gave no usable interface name (SrcName ${JSON.stringify(srcName)})`);
  if (!/^[A-Za-z_-]{1,12}$/.test(dstPrefix)) throw new InvalidParameter('network.remote_join', `invalid interface prefix from the network plugin: ${JSON.stringify(dstPrefix)}`);
  if (ans.Gateway && parseIp(ans.Gateway) === undefined) throw new InvalidParameter('network.remote_join', `unable to parse Gateway "${ans.Gateway}"`);
  for (const r of ans.StaticRoutes ?? []) {
    if (!parseCidr(r.Destination ?? '')) throw new InvalidParameter('network.remote_join', `invalid static route destination ${JSON.stringify(r.Destination)}`);
    if (r.NextHop && parseIp(r.NextHop) === undefined) throw new InvalidParameter('network.remote_join', `failed to parse nexthop IP ${r.NextHop}`);
  }
  return { srcName, dstPrefix };
}

/** A MAC address a plugin gave, checked (it goes into ip(8)). */
export function checkMac(mac: string | undefined): string | undefined {
  if (!mac) return undefined;
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) throw new InvalidParameter('network.remote_endpoint', `invalid MAC address from the network plugin: ${JSON.stringify(mac)}`);
  return mac.toLowerCase();
}

/** Moves the host link `srcName` into the namespace and runs the commands there; on failure it goes back to the host. */
export async function moveIntoSandbox(srcName: string, dstName: string, netns: string, cmds: string[]): Promise<void> {
  await run('ip', ['link', 'set', 'dev', srcName, 'netns', netns]);
  try {
    await run('nsenter', [`--net=${netns}`, '--', 'ip', '-batch', '-'], { input: `${cmds.join('\n')}\n` });
  } catch (err) {
    await moveBackToHost(netns, dstName, srcName).catch(() => {});
    throw err;
  }
}

/** The link back on the host under its own name (libnetwork does so too, then the plugin removes it); a gone namespace took it already. */
export async function moveBackToHost(netns: string, dstName: string, srcName: string): Promise<void> {
  const cmds = [`link set dev ${dstName} down`, `link set dev ${dstName} name ${srcName}`, `link set dev ${srcName} netns /proc/${process.pid}/ns/net`];
  // -force: on past a step that has nothing to do (the link was never renamed)
  await run('nsenter', [`--net=${netns}`, '--', 'ip', '-force', '-batch', '-'], { input: `${cmds.join('\n')}\n` });
}

/** The MAC of a link in the sandbox. */
export async function macIn(netns: string, dev: string): Promise<string> {
  const { stdout } = await run('nsenter', [`--net=${netns}`, '--', 'ip', '-o', 'link', 'show', 'dev', dev]);
  return /link\/ether ([0-9a-f:]{17})/.exec(stdout)?.[1] ?? '';
}

/** Undoes what an endpoint got to, newest first; every step is tried (a half-gone sandbox is normal). */
export async function undoEndpoint(driver: NetworkDriverProxy | undefined, networkId: string, ep: RemoteEndpoint, netns: string, log: Logger): Promise<void> {
  const warn = (what: string) => (err: Error) => log.warn(`remote network driver: ${what} failed`, { endpoint: ep.endpointId, error: err.message });
  if (ep.dstName && ep.srcName) await moveBackToHost(netns, ep.dstName, ep.srcName).catch(warn('moving the link back to the host'));
  if (!driver) return;
  if (ep.joined) await driver.leave(networkId, ep.endpointId).catch(warn('Leave'));
  if (ep.created) await driver.deleteEndpoint(networkId, ep.endpointId).catch(warn('DeleteEndpoint'));
}
