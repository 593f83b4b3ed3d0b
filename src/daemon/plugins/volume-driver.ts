/**
 * The VolumeDriver protocol (moby's volume/drivers/proxy.go) over a plugin
 * client:
 *
 *   /VolumeDriver.Create       {Name, Opts}  → {Err}
 *   /VolumeDriver.Remove       {Name}        → {Err}
 *   /VolumeDriver.Mount        {Name, ID}    → {Mountpoint, Err}
 *   /VolumeDriver.Unmount      {Name, ID}    → {Err}
 *   /VolumeDriver.Path         {Name}        → {Mountpoint, Err}
 *   /VolumeDriver.Get          {Name}        → {Volume: {Name, Mountpoint, CreatedAt, Status}, Err}
 *   /VolumeDriver.List         {}            → {Volumes: [...], Err}
 *   /VolumeDriver.Capabilities {}            → {Capabilities: {Scope}}
 *
 * Docker's deadlines: one minute for questions, two for create, remove,
 * mount and unmount (here: the plugin timeout, and twice it).
 */
import { SystemError } from '../../errdefs/index.js';
import type { Logger } from '../../lib/logger.js';
import type { ExternalVolume, ExternalVolumeDriver, ExternalVolumeDrivers } from '../volumes/external-driver.js';
import type { PluginClient } from './client.js';
import type { ActivePlugin, PluginRegistry } from './registry.js';

export const VOLUME_DRIVER = 'VolumeDriver';

/** A 200 answer whose `Err` is set: Docker passes the plugin's text on as it is. */
export class VolumeDriverError extends SystemError {
  constructor(message: string) {
    super('plugin.driver_error', message);
  }
}

interface Answer {
  Err?: string;
}

function asVolume(v: unknown): ExternalVolume | undefined {
  if (!v || typeof v !== 'object' || typeof (v as ExternalVolume).Name !== 'string') return undefined;
  const o = v as Record<string, unknown>;
  return {
    Name: o.Name as string,
    ...(typeof o.Mountpoint === 'string' ? { Mountpoint: o.Mountpoint } : {}),
    ...(typeof o.CreatedAt === 'string' && o.CreatedAt ? { CreatedAt: o.CreatedAt } : {}),
    ...(o.Status && typeof o.Status === 'object' ? { Status: o.Status as Record<string, unknown> } : {}),
  };
}

export class VolumeDriverProxy implements ExternalVolumeDriver {
  private capabilities?: Promise<'local' | 'global'>;

  constructor(
    private readonly client: PluginClient, private readonly timeoutMs: number, private readonly log: Logger,
    /** A managed plugin answers paths inside its rootfs. */
    private readonly scopePath: (path: string) => string = (p) => p,
  ) {}

  get name(): string {
    return this.client.name;
  }

  private async call<T extends Answer>(method: string, args: unknown, long = false, retry = true): Promise<T> {
    const ret = await this.client.call<T>(`VolumeDriver.${method}`, args, { timeoutMs: long ? 2 * this.timeoutMs : this.timeoutMs, retry });
    if (ret && typeof ret.Err === 'string' && ret.Err) throw new VolumeDriverError(ret.Err);
    return (ret && typeof ret === 'object' ? ret : {}) as T;
  }

  async create(volume: string, opts: Record<string, string>): Promise<void> {
    await this.call('Create', { Name: volume, Opts: opts }, true);
  }

  async remove(volume: string): Promise<void> {
    await this.call('Remove', { Name: volume }, true);
  }

  async mount(volume: string, id: string): Promise<string> {
    const r = await this.call<Answer & { Mountpoint?: unknown }>('Mount', { Name: volume, ID: id }, true);
    if (typeof r.Mountpoint !== 'string' || !r.Mountpoint.startsWith('/')) {
      throw new VolumeDriverError(`VolumeDriver.Mount: plugin ${this.name} returned no absolute Mountpoint for ${volume}`);
    }
    return this.scopePath(r.Mountpoint);
  }

  async unmount(volume: string, id: string): Promise<void> {
    await this.call('Unmount', { Name: volume, ID: id }, true);
  }

  async path(volume: string): Promise<string> {
    const r = await this.call<Answer & { Mountpoint?: unknown }>('Path', { Name: volume });
    return typeof r.Mountpoint === 'string' && r.Mountpoint ? this.scopePath(r.Mountpoint) : '';
  }

  async get(volume: string): Promise<ExternalVolume> {
    const r = await this.call<Answer & { Volume?: unknown }>('Get', { Name: volume });
    return this.scoped(asVolume(r.Volume)) ?? { Name: volume };
  }

  async list(): Promise<ExternalVolume[]> {
    // `volume ls` asks every plugin: one that is down adds a warning at once instead of holding the listing for the retry window
    const r = await this.call<Answer & { Volumes?: unknown }>('List', {}, false, false);
    return Array.isArray(r.Volumes) ? r.Volumes.map((v) => this.scoped(asVolume(v))).filter((v): v is ExternalVolume => !!v) : [];
  }

  private scoped(v: ExternalVolume | undefined): ExternalVolume | undefined {
    return v?.Mountpoint ? { ...v, Mountpoint: this.scopePath(v.Mountpoint) } : v;
  }

  /** Asked once; a plugin without the call (or failing it) is `local`, as in Docker. */
  scope(): Promise<'local' | 'global'> {
    this.capabilities ??= this.call<Answer & { Capabilities?: { Scope?: unknown } }>('Capabilities', {}).then(
      (r) => (r.Capabilities?.Scope === 'global' ? 'global' : 'local'),
      (err: Error) => {
        this.log.debug('volume driver capabilities unavailable, using defaults', { driver: this.name, error: err.message });
        return 'local';
      },
    );
    return this.capabilities;
  }
}

/** Volume drivers from the plugin registry: one proxy per active plugin. */
export class PluginVolumeDrivers implements ExternalVolumeDrivers {
  private readonly proxies = new WeakMap<PluginClient, VolumeDriverProxy>();

  constructor(private readonly registry: PluginRegistry, private readonly timeoutMs: number, private readonly log: Logger) {}

  private proxy(active: ActivePlugin): VolumeDriverProxy {
    let p = this.proxies.get(active.client);
    if (!p) {
      p = new VolumeDriverProxy(active.client, this.timeoutMs, this.log, active.scopePath);
      this.proxies.set(active.client, p);
    }
    return p;
  }

  async get(name: string): Promise<ExternalVolumeDriver> {
    return this.proxy(await this.registry.get(name, VOLUME_DRIVER));
  }

  async all(): Promise<ExternalVolumeDriver[]> {
    return (await this.registry.getAll(VOLUME_DRIVER)).map((p) => this.proxy(p));
  }
}
