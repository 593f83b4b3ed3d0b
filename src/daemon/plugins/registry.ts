/**
 * Active plugins by name: found through discovery, activated once with the
 * `/Plugin.Activate` handshake, then shared by every driver kind that asks.
 *
 *   const p = await plugins.get('myvol', 'VolumeDriver'); // finds, activates (retrying), checks Implements
 *   await p.client.call('VolumeDriver.Create', { Name: 'v', Opts: {} });
 *
 * As in moby's pkg/plugins: the plugin may start after the daemon, so the
 * handshake retries while it cannot be reached; a failed handshake is
 * forgotten, so the next use tries again. Concurrent users of a plugin that
 * is being activated wait for the same handshake.
 */
import { NotFound, SystemError } from '../../errdefs/index.js';
import type { Logger } from '../../lib/logger.js';
import { PluginClient } from './client.js';
import type { PluginLocator, PluginSpec } from './discovery.js';

/** What a plugin declares it implements (`VolumeDriver`, `authz`, `NetworkDriver`, `IpamDriver`). */
export interface Manifest {
  Implements: string[];
}

export interface ActivePlugin {
  name: string;
  client: PluginClient;
  manifest: Manifest;
  /** A managed plugin's paths are inside its rootfs: this maps one to the host's view. */
  scopePath?: (path: string) => string;
}

/** Managed plugins (`docker plugin …`), asked before the plugin directories as moby's store does. */
export interface ManagedPluginSource {
  /** The enabled plugin `name` once it answers; undefined when none has that name; throws when it is disabled. */
  lookup(name: string): Promise<ActivePlugin | undefined>;
  /** Enabled plugins that are up now. */
  enabled(): Promise<ActivePlugin[]>;
  readyNames(): ActivePlugin[];
}

/** moby's ErrNotImplements. */
export const NOT_IMPLEMENTS = 'Plugin does not implement the requested driver';

/** Handshake deadline while scanning (`volume ls`): a socket that is not a plugin must not hold a listing for minutes. */
export const SCAN_ACTIVATE_MS = 5_000;

export function pluginNotFound(name: string): NotFound {
  return new NotFound('plugin.not_found', `plugin "${name}" not found`);
}

export interface PluginRegistryOptions {
  locator: Pick<PluginLocator, 'find' | 'scan'>;
  timeoutMs: number;
  log: Logger;
  /** Replaces the client (unit tests). */
  connect?: (spec: PluginSpec) => Promise<PluginClient>;
}

export class PluginRegistry {
  private readonly active = new Map<string, Promise<ActivePlugin>>();
  /** The handshakes that succeeded (and are still current). */
  private readonly ready = new Map<string, ActivePlugin>();
  private managed: ManagedPluginSource | undefined;

  constructor(private readonly o: PluginRegistryOptions) {}

  /** Managed plugins are built after the registry (they need the runtime): attached once they exist. */
  attachManaged(source: ManagedPluginSource): void {
    this.managed = source;
  }

  /**
   * The plugin `name` implementing `kind`. NotFound when no socket or spec
   * file names it; otherwise Docker's `legacy plugin: …` errors.
   */
  async get(name: string, kind: string): Promise<ActivePlugin> {
    const m = await this.managed?.lookup(name);
    if (m) {
      // moby's ErrInadequateCapability
      if (!m.manifest.Implements.includes(kind)) throw new SystemError('plugin.not_implements', `plugin does not provide ${kind} capability`);
      return m;
    }
    const p = await this.activate(name, true);
    if (!p.manifest.Implements.includes(kind)) throw new SystemError('plugin.not_implements', `legacy plugin: ${NOT_IMPLEMENTS}`);
    return p;
  }

  /** Every plugin in the directories implementing `kind`; ones that fail to activate are skipped (not retried). */
  async getAll(kind: string): Promise<ActivePlugin[]> {
    const managed = (await this.managed?.enabled() ?? []).filter((p) => p.manifest.Implements.includes(kind));
    const names = await this.o.locator.scan();
    const found = await Promise.all(names.map((n) => this.activate(n, false).catch((err: Error) => {
      this.o.log.debug('plugin skipped', { plugin: n, error: err.message });
      return undefined;
    })));
    return [...managed, ...found.filter((p): p is ActivePlugin => !!p && p.manifest.Implements.includes(kind))];
  }

  /** Names of the plugins activated so far that implement `kind` (`docker info`'s Plugins). */
  activeNames(kind: string): string[] {
    const managed = (this.managed?.readyNames() ?? []).filter((p) => p.manifest.Implements.includes(kind)).map((p) => p.name);
    return [...managed, ...[...this.ready.entries()].filter(([, p]) => p.manifest.Implements.includes(kind)).map(([n]) => n)].sort();
  }

  private activate(name: string, retry: boolean): Promise<ActivePlugin> {
    let p = this.active.get(name);
    if (!p) {
      p = this.handshake(name, retry);
      this.active.set(name, p);
      const current = p;
      // a failed handshake is not remembered: the plugin may come up later
      current.then((ok) => {
        if (this.active.get(name) === current) this.ready.set(name, ok);
      }, () => {
        if (this.active.get(name) === current) this.active.delete(name);
      });
    }
    return p;
  }

  private async handshake(name: string, retry: boolean): Promise<ActivePlugin> {
    const spec = await this.o.locator.find(name);
    if (!spec) throw pluginNotFound(name);
    const client = await (this.o.connect ?? ((s) => PluginClient.connect(s, { timeoutMs: this.o.timeoutMs })))(spec);
    let m: Partial<Manifest>;
    try {
      m = await client.call<Partial<Manifest>>('Plugin.Activate', undefined, retry ? {} : { retry, timeoutMs: Math.min(this.o.timeoutMs, SCAN_ACTIVATE_MS) });
    } catch (err) {
      throw new SystemError('plugin.activate_failed', `legacy plugin: ${(err as Error).message}`, { cause: err });
    }
    const implementsList = Array.isArray(m?.Implements) ? m.Implements.filter((x): x is string => typeof x === 'string') : [];
    this.o.log.info('plugin activated', { plugin: name, addr: spec.addr, implements: implementsList });
    return { name, client, manifest: { Implements: implementsList } };
  }
}
