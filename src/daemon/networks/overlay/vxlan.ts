/**
 * The host side of an overlay network on one node, through ip(8) and
 * bridge(8): a bridge holding the gateway address (as libnetwork's br0) and
 * a VXLAN device on it, bound to the node's advertise address, with no
 * learning and no multicast (`nolearning proxy`): frames reach a remote
 * container only through a static FDB entry (its MAC -> its node's VTEP),
 * and ARP for it is answered on this node from a static neighbour entry.
 *
 *   ov-<12 of the id>   bridge, MTU 1450, the gateway address
 *   vx-<12 of the id>   vxlan id <VNI> local <advertise IP> dstport 4789 nolearning proxy, master ov-…
 */
import { readdir } from 'node:fs/promises';
import { ExecError, run } from '../../../lib/exec.js';
import { deleteLink, ensureBridge, linkExists } from '../links.js';

export const BRIDGE_PREFIX = 'ov-';
export const VXLAN_PREFIX = 'vx-';

export function overlayDevices(networkId: string): { bridge: string; vxlan: string } {
  return { bridge: `${BRIDGE_PREFIX}${networkId.slice(0, 12)}`, vxlan: `${VXLAN_PREFIX}${networkId.slice(0, 12)}` };
}

export interface VxlanSpec {
  bridge: string;
  vxlan: string;
  vni: number;
  local: string;
  port: number;
  mtu: number;
  gatewayCidr: string;
}

/** Bridge and VXLAN device, made or repaired; a VXLAN device with other parameters is made again. */
export async function ensureOverlayDevices(s: VxlanSpec): Promise<void> {
  await ensureBridge(s.bridge, s.gatewayCidr, s.mtu);
  if (await linkExists(s.vxlan)) {
    const cur = await vxlanParams(s.vxlan);
    if (cur && (cur.vni !== s.vni || cur.port !== s.port || cur.local !== s.local)) await deleteLink(s.vxlan);
  }
  if (!(await linkExists(s.vxlan))) {
    await run('ip', ['link', 'add', s.vxlan, 'mtu', String(s.mtu), 'type', 'vxlan', 'id', String(s.vni), 'local', s.local,
      'dstport', String(s.port), 'nolearning', 'proxy']);
  }
  await run('ip', ['link', 'set', s.vxlan, 'master', s.bridge, 'up']);
}

export async function removeOverlayDevices(bridge: string, vxlan: string): Promise<void> {
  await deleteLink(vxlan);
  await deleteLink(bridge);
}

/** id, local address and port of a VXLAN device, from `ip -d -j link show`. */
export async function vxlanParams(dev: string): Promise<{ vni: number; port: number; local: string; mtu: number } | undefined> {
  try {
    const out = JSON.parse((await run('ip', ['-d', '-j', 'link', 'show', 'dev', dev])).stdout) as
      { mtu: number; linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string } } }[];
    const d = out[0]?.linkinfo?.info_data;
    if (out[0]?.linkinfo?.info_kind !== 'vxlan' || !d) return undefined;
    return { vni: d.id ?? 0, port: d.port ?? 0, local: d.local ?? '', mtu: out[0]!.mtu };
  } catch {
    return undefined;
  }
}

/** Links named like overlay devices on this host: what a start-up sweep compares with the networks it knows. */
export async function overlayLinks(): Promise<string[]> {
  const names = await readdir('/sys/class/net').catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(BRIDGE_PREFIX) || n.startsWith(VXLAN_PREFIX));
}

/** A remote endpoint: its MAC goes to its node's VTEP, its address resolves to its MAC (answered by the proxy). */
export async function addPeer(vxlan: string, ip: string, mac: string, vtep: string): Promise<void> {
  await run('bridge', ['fdb', 'replace', mac, 'dev', vxlan, 'dst', vtep, 'self', 'permanent']);
  await run('ip', ['neigh', 'replace', ip, 'lladdr', mac, 'dev', vxlan, 'nud', 'permanent']);
}

/** Either half may be '' (a stale neighbour or FDB entry alone). */
export async function removePeer(vxlan: string, ip: string, mac: string): Promise<void> {
  const quiet = (cmd: string, args: string[]) => run(cmd, args).catch((err) => {
    if (!(err instanceof ExecError)) throw err;
  });
  if (ip) await quiet('ip', ['neigh', 'del', ip, 'dev', vxlan]);
  if (mac) await quiet('bridge', ['fdb', 'del', mac, 'dev', vxlan, 'self']);
}

/** The static entries on a VXLAN device now: FDB (mac -> VTEP) and neighbours (ip -> mac). */
export async function currentPeers(vxlan: string): Promise<{ fdb: Map<string, string>; neigh: Map<string, string> }> {
  const fdb = new Map<string, string>();
  const neigh = new Map<string, string>();
  const f = JSON.parse((await run('bridge', ['-j', 'fdb', 'show', 'dev', vxlan])).stdout || '[]') as { mac: string; dst?: string }[];
  // entries with a destination are the device's own (self); the bridge's learned ones have none
  for (const e of f) if (e.dst && e.mac !== '00:00:00:00:00:00') fdb.set(e.mac, e.dst);
  const n = JSON.parse((await run('ip', ['-j', 'neigh', 'show', 'dev', vxlan])).stdout || '[]') as { dst: string; lladdr?: string }[];
  for (const e of n) if (e.lladdr) neigh.set(e.dst, e.lladdr);
  return { fdb, neigh };
}
