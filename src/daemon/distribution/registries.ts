/**
 * Opens a repository on a registry: picks the endpoint (mirrors, HTTPS,
 * HTTP for insecure registries, the hosts of `<hostsDir>/<registry>/hosts.toml`),
 * loads certs.d for it, and remembers which endpoint answered so the next
 * operation goes straight there.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthConfig } from '../../api/registry-auth.js';
import { Authorizer } from './auth.js';
import { endpointsFor, type Endpoint, type EndpointConfig } from './endpoints.js';
import { parseHostsToml, type HostsFile } from './hosts-toml.js';
import { TransportError, type TlsSettings } from './http.js';
import { RepositoryClient } from './registry-client.js';

export interface RegistriesConfig extends EndpointConfig {
  certsDir: string;
  /** Where `<registry>/hosts.toml` files are looked for (containerd's config_path); default: certsDir. */
  hostsDir?: string;
}

export type Actions = 'pull' | 'pull,push';

export class Registries {
  /** registry → the endpoint url that last answered */
  private readonly working = new Map<string, string>();

  constructor(private readonly cfg: RegistriesConfig) {}

  /**
   * Runs `attempt` against each endpoint in turn until one answers: an
   * endpoint that cannot be reached is skipped, and so is a mirror that
   * fails in any way. The last failure is what the caller sees.
   */
  async open<T>(registry: string, repo: string, creds: AuthConfig, actions: Actions,
    attempt: (client: RepositoryClient) => Promise<T>, opts: { mirrors: boolean } = { mirrors: true }): Promise<{ client: RepositoryClient; value: T }> {
    let endpoints = endpointsFor(registry, this.cfg, await this.hostsFile(registry)).filter((e) => opts.mirrors || !e.mirror);
    const known = this.working.get(registry);
    if (known) endpoints = [...endpoints.filter((e) => e.url === known), ...endpoints.filter((e) => e.url !== known)];
    let lastErr: unknown;
    for (const ep of endpoints) {
      const tls = await this.tlsFor(ep);
      const client = new RepositoryClient(ep.url, repo, new Authorizer(creds, tls), `repository:${repo}:${actions}`, tls, ep.overridePath);
      try {
        const value = await attempt(client);
        this.working.set(registry, ep.url);
        return { client, value };
      } catch (err) {
        lastErr = err;
        if (!(err instanceof TransportError) && !ep.mirror) throw err;
      }
    }
    throw lastErr;
  }

  /** An Authorizer and endpoint list for `docker login`, which talks to /v2/ itself. */
  async endpoints(registry: string): Promise<{ endpoint: Endpoint; tls: TlsSettings }[]> {
    const out = [];
    for (const endpoint of endpointsFor(registry, this.cfg, await this.hostsFile(registry)).filter((e) => !e.mirror)) out.push({ endpoint, tls: await this.tlsFor(endpoint) });
    return out;
  }

  /**
   * `<hostsDir>/<registry>/hosts.toml`, else `<hostsDir>/_default/hosts.toml`
   * (containerd's fallback), else none. Read at each operation, as
   * containerd does, so an edit needs no restart.
   */
  private async hostsFile(registry: string): Promise<HostsFile | undefined> {
    const root = this.cfg.hostsDir ?? this.cfg.certsDir;
    for (const name of [registry.replace(/[/\\]/g, '_'), '_default']) {
      const dir = join(root, name);
      let text: string;
      try {
        text = await readFile(join(dir, 'hosts.toml'), 'utf8');
      } catch {
        continue;
      }
      return parseHostsToml(text, dir);
    }
    return undefined;
  }

  /** certs.d/<registry>/: `*.crt` are CAs, `*.cert` + `*.key` a client certificate (Docker's layout). */
  private async tlsFor(ep: Endpoint): Promise<TlsSettings> {
    const tls: TlsSettings = { skipVerify: ep.skipVerify };
    if (!ep.url.startsWith('https:')) return tls;
    // a hosts.toml host has its own `ca` list, not the registry's certs.d
    if (ep.caFiles) {
      for (const f of ep.caFiles) (tls.ca ??= []).push(await readFile(f));
      return tls;
    }
    const dir = join(this.cfg.certsDir, ep.registry.replace(/[/\\]/g, '_'));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return tls;
    }
    for (const n of names.sort()) {
      if (n.endsWith('.crt')) (tls.ca ??= []).push(await readFile(join(dir, n)));
      else if (n.endsWith('.cert')) {
        tls.cert = await readFile(join(dir, n));
        tls.key = await readFile(join(dir, `${n.slice(0, -5)}.key`));
      }
    }
    return tls;
  }
}
