/**
 * Where a registry name is reached: docker.io through its mirrors then
 * registry-1.docker.io; insecure registries over HTTPS without verification,
 * then plain HTTP (dockerd's order). A hosts.toml for the registry puts its
 * pull-capable hosts first, in file order, and its `server` in place of the
 * registry's own endpoints (containerd's order). Pure: the config in, a plan out.
 */
import { isIP } from 'node:net';
import { contains, parseCidr, parseIp } from '../../lib/ipv4.js';
import { DEFAULT_DOMAIN } from '../../oci/reference.js';
import type { HostsFile } from './hosts-toml.js';

export interface Endpoint {
  /** `https://host[:port]` or `http://host[:port]`, no trailing slash (a mirror may carry a path). */
  url: string;
  /** The registry name as references spell it (`docker.io`, `localhost:5000`): the key for credentials and certs.d. */
  registry: string;
  /** HTTPS without certificate verification. */
  skipVerify: boolean;
  mirror: boolean;
  /** CA files for this endpoint (a hosts.toml `ca`), besides certs.d's. */
  caFiles?: string[];
  /** The url is the API root itself: no `/v2` appended (hosts.toml `override_path`). */
  overridePath?: boolean;
}

export interface EndpointConfig {
  insecureRegistries: string[];
  registryMirrors: string[];
}

const DOCKER_HUB_URL = 'https://registry-1.docker.io';

export function endpointsFor(registry: string, cfg: EndpointConfig, hosts?: HostsFile): Endpoint[] {
  if (!hosts) return defaultEndpoints(registry, cfg);
  // push never goes to a mirror, so a host needs only "pull" to be one
  const mirrors: Endpoint[] = hosts.hosts.filter((h) => h.capabilities.includes('pull')).map((h) => ({
    url: h.url, registry, skipVerify: h.skipVerify, mirror: true, caFiles: h.ca, overridePath: h.overridePath,
  }));
  const upstream = hosts.server ? [{ url: serverUrl(hosts.server), registry, skipVerify: false, mirror: false }] : defaultEndpoints(registry, cfg);
  return [...mirrors, ...upstream];
}

/** containerd's docker.io files say `server = "https://docker.io"`; its API lives at registry-1.docker.io. */
function serverUrl(server: string): string {
  return /^https?:\/\/(index\.)?docker\.io$/.test(server) ? DOCKER_HUB_URL : server;
}

function defaultEndpoints(registry: string, cfg: EndpointConfig): Endpoint[] {
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
