/**
 * Published ports as data (pure): `-p`, `-P` and EXPOSE become a list of
 * mappings (host ip, host port or 0 for "any", container port, protocol)
 * and, once host ports are known, the container's NetworkSettings.Ports.
 * A mapping without a host ip is published on IPv4 and IPv6 (host-ports.ts
 * makes it two); one with an IPv6 host ip is proxied, never DNATed.
 */
import { isIPv6 } from 'node:net';
import type { PortBinding, PortMap } from '../../api/types/index.js';
import { InvalidParameter } from '../../errdefs/index.js';
import { parseIp } from '../../lib/ipv4.js';

export interface PortMapping {
  /** '' = every address of both families; else one IPv4 or IPv6 address (`0.0.0.0`, `::` for all of one family). */
  hostIp: string;
  /** 0: any free port, chosen when the container starts. */
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

const PROTOCOLS = ['tcp', 'udp', 'sctp'];

export function isIpv6Host(hostIp: string): boolean {
  return hostIp.includes(':');
}

function badPort(spec: string): InvalidParameter {
  return new InvalidParameter('network.invalid_port', `invalid port specification: "${spec}"`);
}

function parseRange(s: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw badPort(spec);
  const lo = Number(m[1]);
  const hi = m[2] !== undefined ? Number(m[2]) : lo;
  if (lo < 1 || hi > 65535 || hi < lo) throw badPort(spec);
  return [lo, hi];
}

/** `80/tcp` or `8000-8010/udp` → protocol and port range. */
export function parsePortKey(key: string): { protocol: PortMapping['protocol']; range: [number, number] } {
  const [port = '', proto = 'tcp'] = key.split('/');
  if (!PROTOCOLS.includes(proto.toLowerCase())) throw new InvalidParameter('network.invalid_port', `invalid proto: ${proto}`);
  return { protocol: proto.toLowerCase() as PortMapping['protocol'], range: parseRange(port, key) };
}

/** Every mapping the container asks for, validated. */
export function portMappings(exposed: Record<string, object> | null | undefined, bindings: PortMap | null | undefined, publishAll: boolean): PortMapping[] {
  const out: PortMapping[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { protocol, range } = parsePortKey(key);
    bound.add(`${range[0]}/${protocol}`);
    for (const b of list ?? []) {
      const hostIp = (b.HostIp || '').replace(/^\[(.*)\]$/, '$1');
      if (hostIp && parseIp(hostIp) === undefined && !isIPv6(hostIp)) {
        throw new InvalidParameter('network.invalid_port', `invalid host IP: ${hostIp}`);
      }
      if (isIpv6Host(hostIp) && protocol === 'sctp') {
        throw new InvalidParameter('network.invalid_port', `invalid host IP: ${hostIp}: berth publishes SCTP ports on IPv4 only`);
      }
      const n = range[1] - range[0] + 1;
      let hostRange: [number, number] = [0, 0];
      if (b.HostPort) {
        hostRange = parseRange(b.HostPort, b.HostPort);
        const hn = hostRange[1] - hostRange[0] + 1;
        if (hn !== n && !(n === 1 && hn >= 1)) throw badPort(`${b.HostPort}:${key}`);
      }
      for (let i = 0; i < n; i++) {
        out.push({ hostIp, hostPort: b.HostPort ? hostRange[0] + i : 0, containerPort: range[0] + i, protocol });
      }
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { protocol, range } = parsePortKey(key);
      for (let p = range[0]; p <= range[1]; p++) {
        if (!bound.has(`${p}/${protocol}`)) out.push({ hostIp: '', hostPort: 0, containerPort: p, protocol });
      }
    }
  }
  return out;
}

/** NetworkSettings.Ports: every exposed port, with its host bindings or null. */
export function portMap(exposed: Record<string, object> | null | undefined, mapped: PortMapping[]): PortMap {
  const out: PortMap = {};
  for (const key of Object.keys(exposed ?? {})) {
    const { protocol, range } = parsePortKey(key);
    for (let p = range[0]; p <= range[1]; p++) out[`${p}/${protocol}`] = null;
  }
  for (const m of mapped) {
    const key = `${m.containerPort}/${m.protocol}`;
    const b: PortBinding = { HostIp: m.hostIp || '0.0.0.0', HostPort: String(m.hostPort) };
    out[key] = [...(out[key] ?? []), b];
  }
  return out;
}
