/**
 * Published ports of the routing mesh (mode ingress): each is the swarm's,
 * on every node, so one key per port claims it for one service:
 *
 *   /berth/swarm/ingress-ports/<protocol>/<port>   {serviceId, serviceName}
 *
 * written in the service's own create/update/rm transaction (compared
 * absent when claimed), so two services never get one port. A port the
 * spec leaves at 0 gets the first free one of 30000-32767 (swarmkit's
 * dynamic range) and keeps it across updates.
 */
import type { PortConfigView, ServiceSpecView } from '../../api/types/index.js';
import { InvalidParameter, Unavailable } from '../../errdefs/index.js';
import { endpointPorts } from './service-records.js';
import type { Compare, TxnOp } from './store.js';
import { SWARM_PREFIX } from './swarm-objects.js';

export const INGRESS_PORTS_PREFIX = `${SWARM_PREFIX}ingress-ports/`;
export const DYNAMIC_FIRST = 30000;
export const DYNAMIC_LAST = 32767;

export const ingressPortKey = (protocol: string, port: number) => `${INGRESS_PORTS_PREFIX}${protocol}/${port}`;

export interface PortOwner {
  serviceId: string;
  serviceName: string;
}

/** `tcp/8080` -> owner, from the keys under INGRESS_PORTS_PREFIX. */
export function parseClaims(items: { key: string; value: string }[]): Map<string, PortOwner> {
  return new Map(items.map((i) => [i.key.slice(INGRESS_PORTS_PREFIX.length), JSON.parse(i.value) as PortOwner]));
}

/**
 * The spec's ports with every ingress one given its published port:
 * the spec's, else the one `previous` had for the same target and
 * protocol, else the first free dynamic one. Throws swarmkit's words for a
 * port another service holds.
 */
export function assignPorts(spec: ServiceSpecView, serviceId: string, claims: Map<string, PortOwner>, previous: PortConfigView[] = []): PortConfigView[] {
  const out = endpointPorts(spec);
  const mine = (k: string) => claims.get(k)?.serviceId === serviceId;
  const used = new Set<string>();
  for (const p of out) {
    if (p.PublishMode !== 'ingress' || !p.PublishedPort) continue;
    const k = `${p.Protocol}/${p.PublishedPort}`;
    const owner = claims.get(k);
    if (owner && owner.serviceId !== serviceId) {
      throw new InvalidParameter('swarm.port_in_use', `rpc error: code = InvalidArgument desc = port '${p.PublishedPort}' is already in use by service '${owner.serviceName}' (${owner.serviceId}) as an ingress port`);
    }
    if (used.has(k)) throw new InvalidParameter('swarm.invalid_service_spec', `rpc error: code = InvalidArgument desc = EndpointSpec: duplicate published ports provided`);
    used.add(k);
  }
  for (const p of out) {
    if (p.PublishMode !== 'ingress' || p.PublishedPort) continue;
    const before = previous.find((q) => q.PublishMode === 'ingress' && q.TargetPort === p.TargetPort && q.Protocol === p.Protocol && q.PublishedPort);
    if (before && !used.has(`${p.Protocol}/${before.PublishedPort}`) && (mine(`${p.Protocol}/${before.PublishedPort}`) || !claims.has(`${p.Protocol}/${before.PublishedPort}`))) {
      p.PublishedPort = before.PublishedPort;
    } else {
      let port = DYNAMIC_FIRST;
      while (port <= DYNAMIC_LAST && (used.has(`${p.Protocol}/${port}`) || (claims.has(`${p.Protocol}/${port}`) && !mine(`${p.Protocol}/${port}`)))) port++;
      if (port > DYNAMIC_LAST) throw new Unavailable('swarm.no_dynamic_port', 'rpc error: code = ResourceExhausted desc = no dynamic ports left in range 30000-32767');
      p.PublishedPort = port;
    }
    used.add(`${p.Protocol}/${p.PublishedPort}`);
  }
  return out;
}

/** The ingress ports (as `protocol/port`) of assigned ports. */
export function ingressKeys(ports: PortConfigView[]): string[] {
  return ports.filter((p) => p.PublishMode === 'ingress').map((p) => `${p.Protocol}/${p.PublishedPort}`);
}

/** Transaction parts that move the service's claims from `before` to `after`. */
export function claimOps(serviceId: string, serviceName: string, before: string[], after: string[]): { compare: Compare[]; ops: TxnOp[] } {
  const compare: Compare[] = [];
  const ops: TxnOp[] = [];
  for (const k of after) {
    if (before.includes(k)) continue;
    compare.push({ key: `${INGRESS_PORTS_PREFIX}${k}`, modRevision: 0 });
    ops.push({ put: `${INGRESS_PORTS_PREFIX}${k}`, value: JSON.stringify({ serviceId, serviceName }) });
  }
  for (const k of before) if (!after.includes(k)) ops.push({ delete: `${INGRESS_PORTS_PREFIX}${k}` });
  return { compare, ops };
}
