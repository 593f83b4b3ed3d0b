/**
 * The volume service's side of plugin volumes: driver lookup with Docker's
 * error wording, views built from the plugin's Get/List, and Mount/Unmount
 * paired per container mount point through MountRefs.
 */
import type { Volume } from '../../api/types/index.js';
import { asBerthError, NotFound, SystemError } from '../../errdefs/index.js';
import type { Logger } from '../../lib/logger.js';
import type { ExternalVolume, ExternalVolumeDriver, ExternalVolumeDrivers } from './external-driver.js';
import { MountRefs } from './mount-refs.js';
import type { VolumeRecord } from './volume-store.js';

/** moby's OpErr: `create v: VolumeDriver.Create: boom`. */
export function volumeOpError(op: string, name: string, err: unknown): SystemError {
  return new SystemError('volume.driver_failed', `${op} ${name}: ${asBerthError(err).message}`, { cause: err });
}

export class ExternalVolumes {
  readonly refs = new MountRefs();

  constructor(private readonly drivers: ExternalVolumeDrivers, private readonly log: Logger) {}

  /** The driver, or Docker's `error looking up volume plugin NAME: …` (NotFound when no plugin has the name). */
  async lookup(driver: string): Promise<ExternalVolumeDriver> {
    try {
      return await this.drivers.get(driver);
    } catch (err) {
      const e = asBerthError(err);
      const msg = `error looking up volume plugin ${driver}: ${e.message}`;
      throw e instanceof NotFound ? new NotFound('volume.unknown_driver', msg) : new SystemError('volume.driver_unavailable', msg, { cause: err });
    }
  }

  /** Creates the volume at the plugin; `record` then stores it, and a failed store removes it from the plugin again. */
  async create<T>(driver: string, name: string, opts: Record<string, string>, record: () => Promise<T>): Promise<T> {
    const drv = await this.lookup(driver);
    try {
      await drv.create(name, opts);
    } catch (err) {
      throw volumeOpError('create', name, err);
    }
    try {
      return await record();
    } catch (err) {
      await drv.remove(name).catch((e: Error) => this.log.warn('removing a volume whose record could not be written failed', { name, driver, error: e.message }));
      throw err;
    }
  }

  async remove(v: VolumeRecord): Promise<void> {
    const drv = await this.lookup(v.driver!);
    try {
      await drv.remove(v.name);
    } catch (err) {
      throw volumeOpError('remove', v.name, err);
    }
  }

  /** `volume inspect`: Mountpoint and Status from the plugin's Get (Path when Get has no Mountpoint), Scope from its capabilities. */
  async inspect(v: VolumeRecord): Promise<Volume> {
    const drv = await this.lookup(v.driver!);
    let ev: ExternalVolume;
    try {
      ev = await drv.get(v.name);
      if (!ev.Mountpoint) ev = { ...ev, Mountpoint: await drv.path(v.name) };
    } catch (err) {
      throw volumeOpError('get', v.name, err);
    }
    return this.view(drv.name, await drv.scope(), ev, v);
  }

  /** `volume ls`: what each volume plugin lists; a plugin that fails adds a warning instead. */
  async list(records: VolumeRecord[]): Promise<{ volumes: Volume[]; warnings: string[] }> {
    const warnings: string[] = [];
    const byName = new Map<string, ExternalVolumeDriver>();
    for (const d of await this.drivers.all().catch(() => [])) byName.set(d.name, d);
    // volumes recorded with a plugin that is not in the directories right now still get asked for
    for (const name of new Set(records.flatMap((r) => (r.driver && !byName.has(r.driver) ? [r.driver] : [])))) {
      try {
        byName.set(name, await this.lookup(name));
      } catch (err) {
        warnings.push(asBerthError(err).message);
      }
    }
    const recs = new Map(records.map((r) => [r.name, r]));
    const lists = await Promise.all([...byName.values()].map(async (drv) => {
      try {
        const [vols, scope] = await Promise.all([drv.list(), drv.scope()]);
        return vols.map((ev) => this.view(drv.name, scope, ev, recs.get(ev.Name)?.driver === drv.name ? recs.get(ev.Name) : undefined));
      } catch (err) {
        warnings.push(`${drv.name}: ${asBerthError(err).message}`);
        return [];
      }
    }));
    return { volumes: lists.flat(), warnings };
  }

  private view(driver: string, scope: 'local' | 'global', ev: ExternalVolume, rec: VolumeRecord | undefined): Volume {
    return {
      CreatedAt: ev.CreatedAt ?? rec?.createdAt ?? '', Driver: driver, Labels: rec?.labels ?? null, Mountpoint: ev.Mountpoint ?? '',
      Name: ev.Name, Options: rec?.options ?? null, Scope: scope, ...(ev.Status && Object.keys(ev.Status).length ? { Status: ev.Status } : {}),
    };
  }

  /** Where the plugin keeps the volume (a container's mount point Source), or '' when it cannot say. */
  async path(v: VolumeRecord): Promise<string> {
    try {
      return await (await this.lookup(v.driver!)).path(v.name);
    } catch {
      return ''; // the start asks again (Mount), and fails clearly then
    }
  }

  /** Mounts for one container mount point (once per id); returns the host path to bind. */
  async mount(v: VolumeRecord, id: string): Promise<string> {
    const drv = await this.lookup(v.driver!);
    try {
      if (this.refs.has(v.name, id)) return await drv.path(v.name);
      const path = await drv.mount(v.name, id);
      this.refs.add(v.name, id);
      return path;
    } catch (err) {
      throw new SystemError('volume.mount_failed', `error while mounting volume '${v.name}': ${asBerthError(err).message}`, { cause: err });
    }
  }

  /** Unmounts what `mount` mounted for this id; a failure is logged (the container is gone either way). */
  async unmount(v: VolumeRecord, id: string): Promise<void> {
    if (!this.refs.remove(v.name, id)) return;
    try {
      await (await this.lookup(v.driver!)).unmount(v.name, id);
    } catch (err) {
      this.log.warn('volume plugin unmount failed', { name: v.name, driver: v.driver, error: asBerthError(err).message });
    }
  }
}
