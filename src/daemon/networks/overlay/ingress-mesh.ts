/**
 * The routing mesh on one node: every published port (mode ingress) of
 * every service answers on every node's addresses and is spread over the
 * service's tasks on the `ingress` overlay network, wherever they run.
 *
 * Docker puts an `ingress-sbox` namespace between the host and the ingress
 * network (joined to the host by `docker_gwbridge`) and balances with IPVS
 * in it. This kernel has no IPVS, and the iptables statistic DNAT that
 * stands in for it works as well in the host's own nat table, so berth
 * keeps no sandbox and no gateway bridge: the node takes an address of its
 * own on the ingress network (leased like a container's, set on the
 * node's ingress bridge, published as an endpoint so every node's VXLAN
 * forwards to it) and, in the host namespace:
 *
 *   nat    PREROUTING/OUTPUT -m addrtype --dst-type LOCAL -j BERTH-INGRESS
 *          BERTH-INGRESS  -p tcp --dport 8080 [-m statistic ...] -j DNAT --to-destination 10.0.0.5:80
 *          POSTROUTING -j BERTH-INGRESS-POST
 *          BERTH-INGRESS-POST  -o <ingress bridge> -m conntrack --ctstate DNAT -j SNAT --to-source <node's ingress address>
 *   filter FORWARD -j BERTH-INGRESS-FWD (first)
 *          BERTH-INGRESS-FWD  -o <bridge> --ctstate DNAT -j ACCEPT; -i <bridge> --ctstate ESTABLISHED,RELATED -j ACCEPT
 *
 * The SNAT to the node's own ingress address (every node's bridge has the
 * same gateway address) makes a task on another node answer back to this
 * node. Rewritten when the ingress network's VIPs (with their ports) or
 * endpoints change; all of it goes on swarm leave and daemon stop.
 */
import { readFile } from 'node:fs/promises';
import { run } from '../../../lib/exec.js';
import type { Logger } from '../../../lib/logger.js';
import { allocateAddress, putEndpoint, releaseAddress, type OverlayNetworkRecord } from '../../cluster/network-records.js';
import type { KeyValueStore } from '../../cluster/store.js';
import { lbRules, type VipBackends } from '../lb-rules.js';
import type { VipState } from './vip-balancer.js';

export const INGRESS_CHAIN = 'BERTH-INGRESS';
const POST_CHAIN = 'BERTH-INGRESS-POST';
const FWD_CHAIN = 'BERTH-INGRESS-FWD';

/** The container id under which a node's ingress address is leased and published. */
export const ingressEndpointId = (nodeId: string) => `ingress-${nodeId}`;

/** The published ports of the ingress network's VIPs, each spread over its service's endpoints (pure). */
export function ingressBackends(networkId: string, state: VipState): VipBackends[] {
  const eps = [...state.endpoints(networkId)];
  const out: VipBackends[] = [];
  for (const v of state.vips(networkId)) {
    const backends = eps.filter((e) => e.serviceId === v.serviceId && e.ip).map((e) => e.ip);
    for (const p of v.ports ?? []) out.push({ vip: '', backends, port: p });
  }
  return out;
}

/** The fixed rules (iptables-restore input) around the balancing chain. */
export function ingressBaseRules(bridge: string, nodeIp: string): string {
  return [
    '*nat', `:${POST_CHAIN} - [0:0]`,
    `-A ${POST_CHAIN} -o ${bridge} -m conntrack --ctstate DNAT -j SNAT --to-source ${nodeIp}`,
    'COMMIT',
    '*filter', `:${FWD_CHAIN} - [0:0]`,
    `-A ${FWD_CHAIN} -o ${bridge} -m conntrack --ctstate DNAT -j ACCEPT`,
    `-A ${FWD_CHAIN} -i ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    'COMMIT', '',
  ].join('\n');
}

const JUMPS: [table: string, hook: string, match: string, chain: string][] = [
  ['nat', 'PREROUTING', '-m addrtype --dst-type LOCAL', INGRESS_CHAIN],
  ['nat', 'OUTPUT', '-m addrtype --dst-type LOCAL', INGRESS_CHAIN],
  ['nat', 'POSTROUTING', '', POST_CHAIN],
  ['filter', 'FORWARD', '', FWD_CHAIN],
];

async function ipt(args: string): Promise<void> {
  await run('sh', ['-c', `iptables -w ${args}`]);
}

export interface MeshMember {
  store: KeyValueStore;
  nodeId: string;
  advertiseIp: string;
}

export class IngressMesh {
  private current: { netId: string; bridge: string; ip: string; prefix: number; m: MeshMember } | undefined;

  constructor(private readonly state: VipState, private readonly log: Logger) {}

  /** The ingress network is set up on this node: its address, endpoint and rules (again after a restart). */
  async setUp(m: MeshMember, net: OverlayNetworkRecord, bridge: string): Promise<void> {
    const id = ingressEndpointId(m.nodeId);
    const mine = [...this.state.endpoints(net.id)].find((e) => e.containerId === id);
    const addr = mine ? { ip: mine.ip, prefix: Number(net.subnet.split('/')[1]) } : await allocateAddress(m.store, net.id, { containerId: id, nodeId: m.nodeId });
    // pinned: a bridge's MAC otherwise follows its ports, and other nodes forward to this one
    const mac = (await readFile(`/sys/class/net/${bridge}/address`, 'utf8')).trim();
    await run('ip', ['link', 'set', 'dev', bridge, 'address', mac]);
    await run('ip', ['addr', 'replace', `${addr.ip}/${addr.prefix}`, 'dev', bridge]);
    if (!mine || mine.mac !== mac || mine.vtep !== m.advertiseIp) {
      await putEndpoint(m.store, net.id, { containerId: id, name: 'ingress-endpoint', dnsNames: [], ip: addr.ip, mac, nodeId: m.nodeId, vtep: m.advertiseIp });
    }
    this.current = { netId: net.id, bridge, ip: addr.ip, prefix: addr.prefix, m };
    await run('iptables-restore', ['-w', '--noflush'], { input: ingressBaseRules(bridge, addr.ip) });
    await this.apply();
    for (const [table, hook, match, chain] of JUMPS) {
      await ipt(`-t ${table} -C ${hook} ${match} -j ${chain} 2>/dev/null || iptables -w -t ${table} -I ${hook} ${match} -j ${chain}`);
    }
  }

  isIngress(networkId: string): boolean {
    return this.current?.netId === networkId;
  }

  /** Rewrites the balancing chain from the ingress VIPs and endpoints. */
  async apply(): Promise<void> {
    const c = this.current;
    if (!c) return;
    const rules = lbRules(ingressBackends(c.netId, this.state), INGRESS_CHAIN);
    await run('iptables-restore', ['-w', '--noflush'], { input: rules });
  }

  /** Leaving, the network removed, or the daemon stopping: rules and address go; `release` frees the lease too. */
  async teardown(release: boolean): Promise<void> {
    const c = this.current;
    // nothing set up on this node (no swarm, or not yet): no iptables to spawn on every daemon stop
    if (!c) return;
    this.current = undefined;
    for (const [table, hook, match, chain] of JUMPS) await ipt(`-t ${table} -D ${hook} ${match} -j ${chain}`).catch(() => {});
    for (const [table, chain] of [['nat', INGRESS_CHAIN], ['nat', POST_CHAIN], ['filter', FWD_CHAIN]] as const) {
      await ipt(`-t ${table} -F ${chain}`).catch(() => {});
      await ipt(`-t ${table} -X ${chain}`).catch(() => {});
    }
    await run('ip', ['addr', 'del', `${c.ip}/${c.prefix}`, 'dev', c.bridge]).catch(() => {});
    if (release) {
      await releaseAddress(c.m.store, c.netId, ingressEndpointId(c.m.nodeId), c.ip)
        .catch((err: Error) => this.log.warn('ingress: could not release this node\'s address', { error: err.message }));
    }
  }
}

