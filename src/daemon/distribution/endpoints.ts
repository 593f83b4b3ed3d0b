/**
 * Where a registry name is reached: docker.io through its mirrors then
 * registry-1.docker.io; insecure registries over HTTPS without verification,
 * then plain HTTP (dockerd's order). Pure: the config in, a plan out.
 */
import { isIP } from 'node:net';
import { contains, parseCidr, parseIp } from '../../lib/ipv4.js';
import { DEFAULT_DOMAIN } from '../../oci/reference.js';

export interface Endpoint {
  /** `https://host[:port]` or `http://host[:port]`, no trailing slash (a mirror may carry a path). */
  url: string;
  /** The registry name as references spell it (`docker.io`, `localhost:5000`): the key for credentials and certs.d. */
  registry: string;
  /** HTTPS without certificate verification. */
  skipVerify: boolean;
  mirror: boolean;
}

export interface EndpointConfig {
  insecureRegistries: string[];
  registryMirrors: string[];
}

const DOCKER_HUB_URL = 'https://registry-1.docker.io';

export function endpointsFor(registry: string, cfg: EndpointConfig): Endpoint[] {
  if (registry === DEFAULT_DOMAIN) {
    const mirrors = cfg.registryMirrors.map((m) => ({ url: m.replace(/\/+$/, ''), registry, skipVerify: false, mirror: true }));
    return [...mirrors, { url: DOCKER_HUB_URL, registry, skipVerify: false, mirror: false }];
  }
  if (isInsecure(registry, cfg.insecureRegistries)) {
    return [
      { url: `https://${registry}`, registry, skipVerify: true, mirror: false },
      { url: `http://${registry}`, registry, skipVerify: false, mirror: false },
    ];
  }
  return [{ url: `https://${registry}`, registry, skipVerify: false, mirror: false }];
}

/** 127.0.0.0/8 and localhost always (Docker's default), plus configured names, `host:port`s and CIDRs. */
export function isInsecure(registry: string, insecure: string[]): boolean {
  const host = hostOf(registry);
  if (host === 'localhost' || host === '::1') return true;
  const ip = parseIp(host);
  if (ip !== undefined && (ip >>> 24) === 127) return true;
  for (const entry of insecure) {
    const e = entry.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (e === registry || e === host) return true;
    const cidr = e.includes('/') ? parseCidr(e) : undefined;
    if (cidr && ip !== undefined && contains(cidr.cidr, ip)) return true;
  }
  return false;
}

function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  if (isIP(registry) === 6) return registry;
  return registry.replace(/:\d+$/, '');
}
