/**
 * Which address a node advertises (moby's resolveAdvertiseAddr and
 * resolveSystemAddr), as a pure function of the request and the host's
 * interfaces:
 *
 *   resolveAdvertiseIp({ advertiseAddr: '10.0.0.5:2377' }, ifaces)  // '10.0.0.5'
 *   resolveAdvertiseIp({ advertiseAddr: 'eth0' }, ifaces)           // eth0's IPv4 address
 *   resolveAdvertiseIp({ listenAddr: '0.0.0.0:2377' }, ifaces)      // the one non-loopback IPv4 address, or an error
 */
import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { InvalidParameter } from '../../errdefs/index.js';

export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

function invalid(message: string): InvalidParameter {
  return new InvalidParameter('swarm.advertise_addr', message);
}

/** `host[:port]` or `[v6]:port` → host. */
export function hostOf(addr: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (v6) return v6[1]!;
  if (isIP(addr)) return addr;
  const colon = addr.lastIndexOf(':');
  return colon > 0 && /^\d*$/.test(addr.slice(colon + 1)) ? addr.slice(0, colon) : addr;
}

function interfaceIp(name: string, ifaces: Interfaces): string | undefined {
  const list = ifaces[name];
  if (!list) return undefined;
  const v4 = list.filter((a) => a.family === 'IPv4');
  if (v4.length > 1) throw invalid(`interface ${name} has more than one IPv4 address (${v4.map((a) => a.address).join(' and ')})`);
  const ip = v4[0]?.address ?? list.find((a) => a.family === 'IPv6' && !a.address.startsWith('fe80'))?.address;
  if (!ip) throw invalid(`interface ${name} has no usable IPv4 or IPv6 address`);
  return ip;
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

export function resolveAdvertiseIp(req: { advertiseAddr?: string; listenAddr?: string; skipInterfaces?: string[] }, ifaces: Interfaces): string {
  if (req.advertiseAddr) {
    const host = hostOf(req.advertiseAddr);
    if (isIP(host)) {
      if (isUnspecified(host)) throw invalid('advertise address must be a non-zero IP address or network interface (with optional port number)');
      return host;
    }
    const ip = interfaceIp(host, ifaces);
    if (ip) return ip;
    throw invalid('advertise address must be a non-zero IP address or network interface (with optional port number)');
  }
  const listen = hostOf(req.listenAddr || '0.0.0.0:2377');
  if (isIP(listen) && !isUnspecified(listen)) return listen;
  if (listen && !isIP(listen)) {
    const ip = interfaceIp(listen, ifaces);
    if (ip) return ip;
    throw invalid('listen address must be an IP address or network interface (with optional port number)');
  }
  const found: { ip: string; iface: string }[] = [];
  for (const [name, list] of Object.entries(ifaces)) {
    // `ov-*`: a prefix (berth's overlay bridges, e.g. the ingress one a leave is still taking down)
    if (req.skipInterfaces?.some((skip) => (skip.endsWith('*') ? name.startsWith(skip.slice(0, -1)) : name === skip))) continue;
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') found.push({ ip: a.address, iface: name });
  }
  if (found.length === 0) throw invalid("could not find the system's IP address - specify one with --advertise-addr");
  if (found.length > 1) {
    throw invalid(`could not choose an IP address to advertise since this system has multiple addresses on different interfaces (${found[0]!.ip} on ${found[0]!.iface} and ${found[1]!.ip} on ${found[1]!.iface})`);
  }
  return found[0]!.ip;
}
