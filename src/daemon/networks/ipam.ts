/**
 * Address plans of bridge networks (pure): validate a user's --subnet /
 * --gateway / --ip-range, or pick a free subnet from Docker's default
 * pools, refusing overlaps with other networks and the host's routes.
 */
import type { IpamConfig } from '../../api/types/index.js';
import { Forbidden, InvalidParameter } from '../../errdefs/index.js';
import { broadcast, contains, formatCidr, formatIp, nth, overlaps, parseCidr, parseIp, type Cidr } from '../../lib/ipv4.js';

export interface AddressPlan {
  subnet: Cidr;
  gateway: number;
  /** Where dynamic addresses come from (the subnet unless --ip-range). */
  range: Cidr;
  /** Whether the user chose the subnet (only then may containers ask for --ip). */
  userConfigured: boolean;
}

/** Docker's default local pools: 172.17–31.0.0/16, then 192.168.0–240.0/20. */
export function defaultPools(): Cidr[] {
  const out: Cidr[] = [];
  for (let b = 17; b <= 31; b++) out.push(parseCidr(`172.${b}.0.0/16`)!.cidr);
  for (let c = 0; c <= 240; c += 16) out.push(parseCidr(`192.168.${c}.0/20`)!.cidr);
  return out;
}

function badCidr(field: string, s: string): InvalidParameter {
  return new InvalidParameter('network.invalid_cidr', `invalid ${field} ${s}: invalid CIDR address: ${s}`);
}

function checkOverlap(subnet: Cidr, taken: Cidr[]): void {
  if (taken.some((t) => overlaps(t, subnet))) {
    throw new Forbidden('network.pool_overlap', `invalid pool request: Pool overlaps with other one on this address space`);
  }
}

/** The plan of a user's IPAM config; `taken` = subnets of other networks and host routes. */
export function planFromConfig(cfg: IpamConfig, taken: Cidr[]): AddressPlan {
  if (!cfg.Subnet) {
    if (cfg.Gateway || cfg.IPRange) throw new InvalidParameter('network.invalid_ipam', 'invalid pool request: a gateway or an ip range needs a subnet');
    throw new InvalidParameter('network.invalid_ipam', 'invalid pool request: no subnet');
  }
  const s = parseCidr(cfg.Subnet);
  if (!s) throw badCidr('subnet', cfg.Subnet);
  if (s.cidr.prefix > 30) throw new InvalidParameter('network.invalid_cidr', `invalid subnet ${cfg.Subnet}: too small for containers`);
  const subnet = s.cidr;
  let range = subnet;
  if (cfg.IPRange) {
    const r = parseCidr(cfg.IPRange);
    if (!r) throw badCidr('ip-range', cfg.IPRange);
    if (!contains(subnet, r.cidr.base) || r.cidr.prefix < subnet.prefix) {
      throw new InvalidParameter('network.invalid_ipam', `invalid pool request: ip-range ${cfg.IPRange} is not within subnet ${cfg.Subnet}`);
    }
    range = r.cidr;
  }
  let gateway = nth(subnet, 1);
  if (cfg.Gateway) {
    const g = parseIp(cfg.Gateway);
    if (g === undefined) throw new InvalidParameter('network.invalid_ipam', `invalid gateway address ${cfg.Gateway}`);
    if (!contains(subnet, g) || g === subnet.base || g === broadcast(subnet)) {
      throw new InvalidParameter('network.invalid_ipam', `no matching subnet for gateway ${cfg.Gateway}`);
    }
    gateway = g;
  }
  checkOverlap(subnet, taken);
  return { subnet, gateway, range, userConfigured: true };
}

/** The first default pool that overlaps nothing taken. */
export function pickSubnet(taken: Cidr[], pools = defaultPools()): AddressPlan {
  for (const p of pools) {
    if (taken.some((t) => overlaps(t, p))) continue;
    return { subnet: p, gateway: nth(p, 1), range: p, userConfigured: false };
  }
  throw new Forbidden('network.pools_exhausted', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/** `--bip 172.17.0.1/16`: the gateway address with its prefix. */
export function planFromBip(bip: string, taken: Cidr[]): AddressPlan {
  const b = parseCidr(bip);
  if (!b || b.ip === b.cidr.base) throw new InvalidParameter('network.invalid_bip', `invalid --bip ${bip}: want the bridge address with its prefix, e.g. 172.17.0.1/16`);
  checkOverlap(b.cidr, taken);
  return { subnet: b.cidr, gateway: b.ip, range: b.cidr, userConfigured: false };
}

export function ipamConfigOf(p: AddressPlan): IpamConfig {
  const c: IpamConfig = { Subnet: formatCidr(p.subnet), Gateway: formatIp(p.gateway) };
  if (p.range.base !== p.subnet.base || p.range.prefix !== p.subnet.prefix) c.IPRange = formatCidr(p.range);
  return c;
}

/** A container's `--ip` on this network, checked. */
export function checkStaticIp(ip: string, p: AddressPlan): number {
  if (!p.userConfigured) {
    throw new InvalidParameter('network.static_ip', 'user specified IP address is supported only when connecting to networks with user configured subnets');
  }
  const n = parseIp(ip);
  if (n === undefined) throw new InvalidParameter('network.static_ip', `invalid IPv4 address: ${ip}`);
  if (!contains(p.subnet, n) || n === p.subnet.base || n === broadcast(p.subnet) || n === p.gateway) {
    throw new InvalidParameter('network.static_ip', `no configured subnet or ip-range contain the IP address ${ip}`);
  }
  return n;
}

/** IPv4 destinations of the host's routing table (/proc/net/route), as blocks. */
export function hostRoutes(procNetRoute: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of procNetRoute.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // each field is the address's network-order bytes printed as a little-endian word
    const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
    const base = le(f[1]!);
    const prefix = countBits(le(f[7]!));
    if (base === 0 && prefix === 0) continue; // the default route overlaps everything: ignored, as Docker does
    out.push({ base, prefix });
  }
  return out;
}

function countBits(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}

/**
 * `--aux-address name=IP`: addresses IPAM never hands out (routers, hosts
 * already on a macvlan's LAN), each checked to be in the subnet and not
 * its gateway. Returns them as numbers.
 */
export function auxAddresses(aux: Record<string, string> | undefined, p: AddressPlan): number[] {
  const out: number[] = [];
  for (const [name, ip] of Object.entries(aux ?? {})) {
    const n = parseIp(ip);
    if (n === undefined) throw new InvalidParameter('network.invalid_ipam', `failed to parse aux address for ${name}: invalid IPv4 address: ${ip}`);
    if (!contains(p.subnet, n)) {
      throw new Forbidden('network.invalid_ipam', `auxiliary address: (${name}:${ip}) must belong to the master pool: ${formatCidr(p.subnet)}`);
    }
    out.push(n);
  }
  return out;
}
