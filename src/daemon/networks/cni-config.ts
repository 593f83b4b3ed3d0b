/**
 * CNI network configuration lists as data (pure). One list per bridge
 * network: the `bridge` plugin (veth into the container's namespace, the
 * bridge as gateway, `host-local` IPAM whose state lives under the data
 * root) followed by `portmap` (DNAT of published ports, with SNAT so
 * 127.0.0.1 and hairpin connections work through `route_localnet`).
 *
 * Masquerading to the outside and isolation between networks are per
 * network, not per container, so berth writes them itself in its BERTH-*
 * chains (firewall.ts) instead of the bridge plugin's `ipMasq` or the
 * `firewall` plugin: the latter inserts per-container ACCEPT rules at the
 * top of FORWARD, above any isolation, which would defeat `--internal`.
 */
import { formatCidr, formatIp } from '../../lib/ipv4.js';
import type { AddressPlan } from './ipam.js';
import type { PortMapping } from './ports.js';

export const CNI_VERSION = '1.0.0';

export interface PluginConf {
  type: string;
  [k: string]: unknown;
}

export interface NetworkConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface BridgeNetworkInput {
  /** CNI network name (also host-local's directory under `ipamDir`). */
  name: string;
  bridge: string;
  plan: AddressPlan;
  ipamDir: string;
  mtu?: number;
}

/** The CNI name of a berth network: stable, short, valid for CNI. */
export function cniNetworkName(networkId: string): string {
  return `berth-${networkId.slice(0, 12)}`;
}

export function bridgeConfList(n: BridgeNetworkInput): NetworkConfList {
  const range: Record<string, string> = { subnet: formatCidr(n.plan.subnet), gateway: formatIp(n.plan.gateway) };
  const r = n.plan.range;
  if (r.base !== n.plan.subnet.base || r.prefix !== n.plan.subnet.prefix) {
    // --ip-range: the first and last usable addresses of the range
    range.rangeStart = formatIp(r.prefix >= 31 ? r.base : r.base + 1);
    range.rangeEnd = formatIp(r.prefix >= 31 ? r.base + 2 ** (32 - r.prefix) - 1 : r.base + 2 ** (32 - r.prefix) - 2);
  }
  return {
    cniVersion: CNI_VERSION,
    name: n.name,
    plugins: [
      {
        type: 'bridge',
        bridge: n.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        mtu: n.mtu ?? 1500,
        ipam: { type: 'host-local', ranges: [[range]], routes: [{ dst: '0.0.0.0/0' }], dataDir: n.ipamDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** runtimeConfig for the plugins that declare these capabilities. */
export interface RuntimeConfig {
  portMappings?: { hostPort: number; containerPort: number; protocol: string; hostIP: string }[];
  ips?: string[];
}

/** The portmap plugin DNATs the IPv4 mappings; the IPv6 ones are proxied (host-ports.ts). */
export function runtimeConfig(ports: PortMapping[], staticIp?: string): RuntimeConfig {
  const rc: RuntimeConfig = {};
  const v4 = ports.filter((p) => !p.hostIp.includes(':'));
  if (v4.length) rc.portMappings = v4.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIp === '0.0.0.0' ? '' : p.hostIp }));
  if (staticIp) rc.ips = [staticIp];
  return rc;
}

/**
 * The stdin of one plugin call: the plugin's own config plus the list's
 * name and version, the runtime config of the capabilities it declares,
 * and the previous plugin's result. Plugins that have nothing to do
 * (portmap without ports) are skipped by `pluginsToRun`.
 */
export function pluginInput(list: NetworkConfList, plugin: PluginConf, rc: RuntimeConfig, prevResult?: unknown): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
  const runtime: Record<string, unknown> = {};
  if (caps.portMappings && rc.portMappings) runtime.portMappings = rc.portMappings;
  // the bridge and macvlan plugins hand their whole input to host-local, which reads `ips` for --ip
  if ((plugin.type === 'bridge' || plugin.type === 'macvlan') && rc.ips) runtime.ips = rc.ips;
  if (Object.keys(runtime).length) conf.runtimeConfig = runtime;
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return conf;
}

export function pluginsToRun(list: NetworkConfList, rc: RuntimeConfig): PluginConf[] {
  return list.plugins.filter((p) => p.type !== 'portmap' || (rc.portMappings?.length ?? 0) > 0);
}
