/**
 * The macvlan driver, as libnetwork's: each container gets a macvlan link
 * of the parent interface (`-o parent`, default mode bridge), so it sits on
 * the parent's LAN with an address of the network's subnet. No bridge, no
 * NAT, no host ports; the gateway is a router on that LAN (never given to
 * a container), and `--internal` networks get no default route.
 *
 *   const cfg = macvlanConfig(id, { parent: 'eth0' }, others);   // checks (pure)
 *   const state = await ensureMacvlanParent(cfg);                 // eth0.10: the VLAN link is made
 *   macvlanConfList({ name, state, plan, aux, ipamDir, internal }); // the CNI list of the network
 *   await removeMacvlanParent(state);                             // with the network: what it made goes
 *
 * A parent `eth0.10` that does not exist is made as an 802.1q link of
 * eth0 and removed with the network; no parent at all means a dummy link
 * `dm-<network id>` as parent (an isolated, internal network). Kernels
 * without 802.1q or dummy links (as the one berth is tested on) get an
 * error that says so: the link is tried, and nothing is left behind.
 */
import { Conflict, InvalidParameter, NotImplemented, SystemError } from '../../../errdefs/index.js';
import { ExecError, run } from '../../../lib/exec.js';
import { CNI_VERSION, type NetworkConfList } from '../cni-config.js';
import type { AddressPlan } from '../ipam.js';
import { deleteLink, linkExists } from '../links.js';
import { hostLocalRanges } from './host-local.js';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'];
export const PARENT_OPTION = 'parent';
export const MODE_OPTION = 'macvlan_mode';

/** What a macvlan network records besides the common fields. */
export interface MacvlanState {
  parent: string;
  mode: string;
  /** The parent link this network made (a VLAN sub-interface or a dummy), removed with it. */
  createdParent?: 'vlan' | 'dummy';
}

/** libnetwork's name for a network's dummy parent, also the name its errors give a network by. */
export function dummyParentName(networkId: string): string {
  return `dm-${networkId.slice(0, 12)}`;
}

/**
 * The driver options of a new network, checked against the other macvlan
 * networks (pure). Networks may share a parent (moby#47318, merged 2024),
 * except where one of them is in passthru mode, which takes the parent
 * for one macvlan link alone. A parent another network made (a VLAN link)
 * counts as made by this one too, so the last network to go removes it.
 */
export function macvlanConfig(networkId: string, options: Record<string, string>, others: { id: string; macvlan?: MacvlanState }[]): MacvlanState {
  const mode = options[MODE_OPTION] || 'bridge';
  if (!MACVLAN_MODES.includes(mode)) {
    throw new InvalidParameter('network.macvlan_mode', `requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`);
  }
  const given = options[PARENT_OPTION] ?? '';
  if (given === 'lo') throw new InvalidParameter('network.macvlan_parent', 'loopback interface is not a valid macvlan parent link');
  const parent = given || dummyParentName(networkId);
  const sharing = others.filter((o) => o.macvlan?.parent === parent);
  for (const o of sharing) {
    if (mode === 'passthru') throw new Conflict('network.parent_in_use', `cannot use mode passthru, macvlan network ${o.id} is already using parent interface ${parent}`);
    if (o.macvlan!.mode === 'passthru') throw new Conflict('network.parent_in_use', `macvlan network ${o.id} is already using parent interface ${parent} in mode passthru`);
  }
  const made = sharing.find((o) => o.macvlan!.createdParent)?.macvlan!.createdParent;
  return { parent, mode, ...(made ? { createdParent: made } : {}) };
}

/** The kernel has no link kind of that name (ip's words for EOPNOTSUPP from rtnetlink). */
function unknownKind(err: unknown): boolean {
  return err instanceof ExecError && /Unknown device type|not supported/i.test(err.stderr);
}

/** `eth0.10` -> eth0 and 10, with libnetwork's checks and words. */
export function parseVlanParent(name: string): { link: string; vid: number } {
  if (!name.includes('.')) throw new InvalidParameter('network.macvlan_parent', `invalid subinterface vlan name ${name}, example formatting is eth0.10`);
  const parts = name.split('.');
  if (parts.length !== 2) {
    throw new InvalidParameter('network.macvlan_parent', `required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received ${name}`);
  }
  const [link, vidText] = parts as [string, string];
  const vid = /^\d+$/.test(vidText) ? Number(vidText) : NaN;
  if (Number.isNaN(vid)) throw new InvalidParameter('network.macvlan_parent', `unable to parse a valid vlan id from: ${vidText} (ex. eth0.10 for vlan 10)`);
  if (vid < 1 || vid > 4094) throw new InvalidParameter('network.macvlan_parent', `vlan id must be between 1-4094, received: ${vid}`);
  return { link, vid };
}

/** Makes the parent when it is missing: the VLAN sub-interface, or the dummy of a parent-less network. */
export async function ensureMacvlanParent(cfg: MacvlanState, networkId: string): Promise<MacvlanState> {
  if (await linkExists(cfg.parent)) return cfg; // found (or made for a network sharing it: createdParent is kept)
  if (cfg.parent === dummyParentName(networkId)) {
    await addLink(cfg.parent, `the dummy parent link ${cfg.parent}`, ['name', cfg.parent, 'type', 'dummy'],
      `this kernel has no dummy links, which a macvlan network without a parent (or --internal without -o parent) uses as its parent: give one with -o parent=<interface>`);
    return { ...cfg, createdParent: 'dummy' };
  }
  const { link, vid } = parseVlanParent(cfg.parent);
  if (!(await linkExists(link))) throw new InvalidParameter('network.macvlan_parent', `-o parent interface was not found on the host: ${link}`);
  await addLink(cfg.parent, `${cfg.parent} vlan link`, ['link', link, 'name', cfg.parent, 'type', 'vlan', 'id', String(vid)],
    'this kernel has no 802.1q VLAN support (module 8021q), so berth cannot make the VLAN sub-interface: create it yourself or use an existing interface as parent');
  return { ...cfg, createdParent: 'vlan' };
}

/** `ip link add <spec>`, then up; a kernel without the link kind gets `unsupported` in the error. */
async function addLink(name: string, what: string, spec: string[], unsupported: string): Promise<void> {
  try {
    await run('ip', ['link', 'add', ...spec]);
  } catch (err) {
    if (unknownKind(err)) throw new NotImplemented('network.kernel_unsupported', `failed to create ${what}: ${unsupported}`);
    throw new InvalidParameter('network.macvlan_parent', `failed to create ${what}: ${(err as ExecError).stderr?.trim() || (err as Error).message}`);
  }
  try {
    await run('ip', ['link', 'set', name, 'up']);
  } catch (err) {
    await deleteLink(name).catch(() => {});
    throw err;
  }
}

/** Before a container joins: the parent may have gone since the network was made (libnetwork's words). */
export async function checkMacvlanParent(state: MacvlanState): Promise<void> {
  if (!(await linkExists(state.parent))) {
    throw new SystemError('network.macvlan_parent_gone', `the requested parent interface ${state.parent} was not found on the Docker host`);
  }
}

/** Removes the parent link the network made (never one it found), once no other network uses it. */
export async function removeMacvlanParent(state: MacvlanState, others: { macvlan?: MacvlanState }[]): Promise<void> {
  if (state.createdParent && !others.some((o) => o.macvlan?.parent === state.parent)) await deleteLink(state.parent);
}

export interface MacvlanNetworkInput {
  /** CNI network name (also host-local's directory under `ipamDir`). */
  name: string;
  state: MacvlanState;
  plan: AddressPlan;
  /** Addresses the network's IPAM never hands out (--aux-address). */
  aux: number[];
  ipamDir: string;
  internal: boolean;
  /** A container's --ip, which may lie outside --ip-range. */
  staticIp?: number;
}

/** The CNI list of one attachment: the macvlan plugin with host-local IPAM (pure). */
export function macvlanConfList(n: MacvlanNetworkInput): NetworkConfList {
  return {
    cniVersion: CNI_VERSION,
    name: n.name,
    plugins: [{
      type: 'macvlan',
      master: n.state.parent,
      mode: n.state.mode,
      ipam: {
        type: 'host-local',
        ranges: [hostLocalRanges(n.plan, n.aux, n.staticIp)],
        // --internal: no default route, as libnetwork sets no gateway on such endpoints
        routes: n.internal ? [] : [{ dst: '0.0.0.0/0' }],
        dataDir: n.ipamDir,
      },
    }],
  };
}
