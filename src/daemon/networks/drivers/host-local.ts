/**
 * host-local IPAM ranges of a network (pure), for the drivers whose
 * addresses Docker's IPAM would hand out: the dynamic range (the subnet,
 * or --ip-range) cut around the auxiliary addresses, which host-local has
 * no exclude list for. host-local itself skips each range's gateway.
 *
 *   10.5.0.0/24, gateway .1, aux .2 and .3
 *   -> [{ rangeStart: 10.5.0.1, rangeEnd: 10.5.0.1 }, { rangeStart: 10.5.0.4, rangeEnd: 10.5.0.254 }]
 *
 * A container's --ip outside the dynamic range (allowed anywhere in the
 * subnet, as in Docker) gets a one-address range of its own in that
 * container's list: host-local only grants requested addresses that lie
 * in one of its ranges.
 */
import { broadcast, contains, formatCidr, formatIp, type Cidr } from '../../../lib/ipv4.js';
import type { AddressPlan } from '../ipam.js';

export interface HostLocalRange {
  subnet: string;
  gateway: string;
  rangeStart: string;
  rangeEnd: string;
}

/** First and last addresses containers may get from a block (no network or broadcast address). */
function usable(c: Cidr): [number, number] {
  if (c.prefix >= 31) return [c.base, broadcast(c)];
  return [c.base + 1, broadcast(c) - 1];
}

export function hostLocalRanges(plan: AddressPlan, aux: number[], staticIp?: number): HostLocalRange[] {
  const [subFirst, subLast] = usable(plan.subnet);
  let [first, last] = usable(plan.range);
  first = Math.max(first, subFirst);
  last = Math.min(last, subLast);
  const cuts = [...new Set(aux)].filter((a) => a >= first && a <= last).sort((a, b) => a - b);
  const segments: [number, number][] = [];
  let start = first;
  for (const a of cuts) {
    if (a > start) segments.push([start, a - 1]);
    start = a + 1;
  }
  if (start <= last) segments.push([start, last]);
  if (staticIp !== undefined && contains(plan.subnet, staticIp) && !segments.some(([s, e]) => staticIp >= s && staticIp <= e)) {
    segments.push([staticIp, staticIp]);
  }
  const subnet = formatCidr(plan.subnet);
  return segments.map(([s, e]) => ({
    subnet, gateway: formatIp(plan.gateway), rangeStart: formatIp(s), rangeEnd: formatIp(e),
  }));
}
