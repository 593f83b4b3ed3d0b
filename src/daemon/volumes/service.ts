/**
 * Volumes: the Engine API's volume objects (create, ls, inspect, rm, prune)
 * and what containers do with them (plan at create, mount at start,
 * unmount after exit, drop anonymous ones at `rm -v`).
 *
 *   await volumes.attach(rec);               // create: mount points, named and anonymous volumes
 *   const m = await volumes.mount(rec, root);// start: copy-up, option mounts → spec mounts
 *   await volumes.unmount(rec);              // exit
 *   await volumes.detach(rec, true);         // rm -v / --rm: anonymous volumes go
 */
import { mkdir, stat } from 'node:fs/promises';
import type { MountPoint, Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse } from '../../api/types/index.js';
import { Filters } from '../../api/filters.js';
import { Conflict, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { directorySize } from '../../lib/disk-usage.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import type { SpecMount } from '../../oci/runtime-spec.js';
import type { ContainerRecord } from '../containers/record.js';
import type { EventBus } from '../events/event-bus.js';
import { copyUp, mountOptionsVolume, needsMount, unmountOptionsVolume, validateDriverOptions } from './local-driver.js';
import { checkVolumeName, noCopy, parseVolumesFrom, planMounts, specMounts } from './mount-plan.js';
import type { VolumeRecord, VolumeStore } from './volume-store.js';
import { NO_EXTERNAL_DRIVERS, type ExternalVolumeDrivers } from './external-driver.js';
import { ExternalVolumes } from './external-volumes.js';
import { mountId } from './mount-refs.js';

/** Docker's label on volumes created without a name (moby ≥ 23; `volume prune` keys on it). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const LIST_FILTERS = new Set(['dangling', 'name', 'label', 'label!', 'driver']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

export interface VolumeUsers {
  /** Ids of containers (any state) whose mount points name this volume. */
  usersOf(name: string): string[];
  /** Ids of running containers using it. */
  runningUsersOf(name: string): string[];
  /** Mount points of another container, for --volumes-from (NotFound when it does not exist). */
  mountsOf(ref: string): MountPoint[];
}

export interface VolumeServiceDeps {
  store: VolumeStore;
  events: EventBus;
  log: Logger;
  users: VolumeUsers;
  /** Volume plugins (none: only `local`). */
  drivers?: ExternalVolumeDrivers;
}

/** What a volume is created with; `driver` undefined = whatever driver has it, else local (`-v name:/p`). */
interface Ensure {
  name?: string;
  driver?: string;
  driverOpts?: Record<string, string> | null;
  labels?: Record<string, string> | null;
}

/** `all` of `volume prune`: one value in Go's strconv.ParseBool grammar. */
function pruneAll(filters: Filters, dflt: boolean): boolean {
  const all = filters.get('all');
  if (!filters.has('all')) return dflt;
  if (all.length !== 1) throw Filters.invalid(`invalid filter 'all=[${all.join(' ')}]': only one value is expected`);
  const v = all[0]!;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw Filters.invalid(`invalid filter 'all': strconv.ParseBool: parsing "${v}": invalid syntax`);
}

export class VolumeService {
  private readonly external: ExternalVolumes;

  constructor(private readonly d: VolumeServiceDeps) {
    this.external = new ExternalVolumes(d.drivers ?? NO_EXTERNAL_DRIVERS, d.log);
  }

  private view(v: VolumeRecord): Volume {
    return {
      CreatedAt: v.createdAt, Driver: 'local', Labels: v.labels, Mountpoint: this.d.store.dataPath(v.name),
      Name: v.name, Options: v.options, Scope: 'local',
    };
  }

  // ------------------------------------------------------------------ API

  async create(req: VolumeCreateRequest): Promise<Volume> {
    const v = await this.ensure({ ...(req.Name ? { name: req.Name } : {}), driver: req.Driver || 'local', driverOpts: req.DriverOpts ?? null, labels: req.Labels ?? null });
    return this.viewOf(v, true);
  }

  /** A volume as the API shows it; a plugin's is asked for its mount point and status. */
  private async viewOf(v: VolumeRecord, tolerant = false): Promise<Volume> {
    if (!v.driver) return this.view(v);
    return this.external.inspect(v).catch((err: unknown) => {
      if (!tolerant) throw err;
      return { ...this.view(v), Driver: v.driver!, Mountpoint: '' };
    });
  }

  /** Creates the volume unless it exists; an existing one under another driver than the one asked for is a conflict. */
  private async ensure(o: Ensure): Promise<VolumeRecord> {
    if (o.name) checkVolumeName(o.name);
    const driver = o.driver ?? this.d.store.find(o.name ?? '')?.driver ?? 'local';
    if (driver === 'local') validateDriverOptions(o.driverOpts);
    const name = o.name || newId();
    const existing = this.d.store.find(name);
    if (existing) {
      const has = existing.driver ?? 'local';
      if (has !== driver) throw new Conflict('volume.name_conflict', `create ${name}: driver '${has}' already has volume '${name}': volume name must be unique`);
      return existing;
    }
    const rec: VolumeRecord = {
      name,
      labels: o.labels ?? (o.name ? null : { [ANONYMOUS_LABEL]: '' }),
      options: o.driverOpts && Object.keys(o.driverOpts).length ? o.driverOpts : null,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      anonymous: !o.name,
      ...(driver !== 'local' ? { driver } : {}),
    };
    const v = driver === 'local'
      ? await this.d.store.create(rec)
      : await this.external.create(driver, name, o.driverOpts ?? {}, () => this.d.store.create(rec));
    this.d.events.publish('volume', 'create', name, { driver });
    return v;
  }

  /** Every volume with its size and number of containers using it (`system df`). */
  async usage(): Promise<Volume[]> {
    // a plugin's volumes have no size Docker could measure: -1, as dockerd
    return Promise.all(this.d.store.list().map(async (v) => ({
      ...this.view(v), ...(v.driver ? { Driver: v.driver } : {}),
      UsageData: { Size: v.driver ? -1 : await directorySize(this.d.store.dataPath(v.name)), RefCount: this.d.users.usersOf(v.name).length },
    })));
  }

  async inspect(name: string): Promise<Volume> {
    return this.viewOf(this.d.store.get(name));
  }

  async list(filters: Filters): Promise<VolumeListResponse> {
    filters.accept(LIST_FILTERS);
    const dangling = filters.has('dangling') ? filters.bool('dangling', false) : undefined;
    const records = this.d.store.list();
    const plugins = await this.external.list(records.filter((v) => v.driver));
    const local = records.filter((v) => !v.driver).map((v) => this.view(v));
    const out = [...local, ...plugins.volumes].filter((v) => {
      if (dangling !== undefined && dangling !== (this.d.users.usersOf(v.Name).length === 0)) return false;
      return filters.match('name', v.Name) && filters.exact('driver', v.Driver) && filters.labels(v.Labels);
    });
    return { Volumes: out, Warnings: plugins.warnings.length ? plugins.warnings : null };
  }

  async remove(name: string, force = false): Promise<void> {
    const v = this.d.store.find(name);
    if (!v) {
      if (force) return;
      throw new NotFound('volume.not_found', `get ${name}: no such volume`);
    }
    const users = this.d.users.usersOf(name);
    if (users.length) throw new Conflict('volume.in_use', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    try {
      await this.destroy(v);
    } catch (err) {
      // `rm -f` of a plugin's volume the plugin cannot remove (it is gone): dockerd purges the record
      if (!force || !v.driver) throw err;
      this.d.log.warn('volume plugin could not remove the volume; record purged (rm -f)', { name, driver: v.driver, error: (err as Error).message });
      await this.d.store.delete(v.name);
      this.d.events.publish('volume', 'destroy', v.name, { driver: v.driver });
    }
  }

  /**
   * At daemon start, before containers are restored: plugin volumes of
   * containers that were running are held by them (their Mount was sent by
   * the daemon before this one), so their stop sends the Unmount.
   */
  adoptMounts(records: ContainerRecord[]): void {
    for (const rec of records) {
      if (!rec.state.Running) continue;
      for (const mp of rec.mounts) {
        if (mp.Type === 'volume' && mp.Name && this.d.store.find(mp.Name)?.driver) this.external.refs.add(mp.Name, mountId(rec.id, mp.Destination));
      }
    }
  }

  private async destroy(v: VolumeRecord): Promise<void> {
    if (v.driver) {
      // the plugin first: a volume it refuses to remove keeps its record
      await this.external.remove(v);
    } else {
      // never let a recursive delete walk into a mounted device or host directory
      await unmountOptionsVolume(this.d.store.dataPath(v.name));
    }
    await this.d.store.delete(v.name);
    this.d.events.publish('volume', 'destroy', v.name, { driver: v.driver ?? 'local' });
  }

  /** `all`: every unused volume (API < 1.42, or `filters={"all":["true"]}`); otherwise only anonymous ones. */
  async prune(filters: Filters, allByDefault: boolean): Promise<VolumePruneResponse> {
    const all = pruneAll(filters.accept(PRUNE_FILTERS), allByDefault);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.d.store.list()) {
      if (!all && !(v.labels && ANONYMOUS_LABEL in v.labels)) continue;
      if (!filters.labels(v.labels)) continue;
      if (this.d.users.usersOf(v.name).length) continue;
      const size = v.driver || needsMount(v.options) ? 0 : await directorySize(this.d.store.dataPath(v.name)).catch(() => 0);
      try {
        await this.destroy(v);
        deleted.push(v.name);
        reclaimed += size;
      } catch (err) {
        this.d.log.warn('volume prune: removal failed', { name: v.name, error: (err as Error).message });
      }
    }
    this.d.events.publish('volume', 'prune', '', { reclaimed: String(reclaimed) });
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  // ------------------------------------------------------------------ containers

  /**
   * At container create: the mount points from -v, --mount, --tmpfs,
   * --volumes-from and the image's VOLUMEs; creates the volumes they name.
   * Validates everything before creating anything.
   */
  async attach(rec: ContainerRecord): Promise<void> {
    const hc = rec.hostConfig;
    const volumesFrom = (hc.VolumesFrom ?? []).map((spec) => {
      const { ref, mode } = parseVolumesFrom(spec);
      return { mounts: this.d.users.mountsOf(ref), mode };
    });
    const plan = planMounts({
      binds: hc.Binds ?? [], mounts: hc.Mounts ?? [], tmpfs: hc.Tmpfs ?? {}, volumesFrom,
      imageVolumes: Object.keys(rec.config.Volumes ?? {}),
    });
    // --mount's volume-driver, else --volume-driver; none: the driver that has the volume, else local
    const driverOf = (p: (typeof plan)[number]) => p.create?.driver || hc.VolumeDriver || undefined;
    for (const p of plan) {
      if (p.Type !== 'volume') continue;
      const driver = driverOf(p);
      if (driver && driver !== 'local') await this.external.lookup(driver);
      else if (p.create?.driverOpts && (driver === 'local' || !this.d.store.find(p.Name ?? '')?.driver)) validateDriverOptions(p.create.driverOpts);
    }
    for (const p of plan) {
      if (p.Type === 'bind' && !p.createSource && !(await stat(p.Source).then(() => true, () => false))) {
        throw new InvalidParameter('volume.invalid_mount', `invalid mount config for type "bind": bind source path does not exist: ${p.Source}`);
      }
    }
    const mounts: MountPoint[] = [];
    for (const p of plan) {
      const { create, createSource, ...mp } = p;
      void createSource;
      if (mp.Type === 'volume') {
        const named = !!mp.Name;
        const driver = driverOf(p);
        const v = await this.ensure({
          ...(named ? { name: mp.Name } : {}),
          ...(driver ? { driver } : {}),
          ...(create?.driverOpts ? { driverOpts: create.driverOpts } : {}),
          ...(create?.labels ? { labels: named ? create.labels : { ...create.labels, [ANONYMOUS_LABEL]: '' } } : {}),
        });
        mp.Name = v.name;
        mp.Driver = v.driver ?? 'local';
        mp.Source = v.driver ? await this.external.path(v) : this.d.store.dataPath(v.name);
      }
      mounts.push(mp);
    }
    rec.mounts = mounts;
  }

  /** Before the task starts: option mounts, missing bind sources, copy-up; the spec mounts. */
  async mount(rec: ContainerRecord, rootfs: string): Promise<SpecMount[]> {
    const binds = new Map((rec.hostConfig.Binds ?? []).map((b) => [b.split(':')[1], b]));
    // where each plugin volume is mounted; what this call mounted goes again if a later step fails
    const pluginPaths = new Map<string, string>();
    const mounted: Array<{ v: VolumeRecord; id: string }> = [];
    try {
      for (const mp of rec.mounts) {
        if (mp.Type === 'bind' && binds.has(mp.Destination)) {
          // `-v /host/dir:/x` creates a missing host directory (docker's legacy behaviour)
          await mkdir(mp.Source, { recursive: true });
        }
        if (mp.Type !== 'volume') continue;
        const v = this.d.store.find(mp.Name!) ?? (await this.d.store.create({
          name: mp.Name!, labels: null, options: null, createdAt: new Date().toISOString(), anonymous: false,
        }));
        let data = this.d.store.dataPath(v.name);
        if (v.driver) {
          const id = mountId(rec.id, mp.Destination);
          const fresh = !this.external.refs.has(v.name, id);
          data = await this.external.mount(v, id);
          if (fresh) mounted.push({ v, id });
          pluginPaths.set(`${v.name}\0${mp.Destination}`, data);
        } else if (needsMount(v.options)) await mountOptionsVolume(v.options!, data);
        if (!noCopy(mp, rec.hostConfig)) await copyUp(rootfs, mp.Destination, data);
        this.d.events.publish('volume', 'mount', v.name, {
          container: rec.id, destination: mp.Destination, driver: v.driver ?? 'local', propagation: mp.Propagation, 'read/write': String(mp.RW),
        });
      }
    } catch (err) {
      for (const m of mounted.reverse()) await this.external.unmount(m.v, m.id);
      throw err;
    }
    return specMounts(rec.mounts, rec.hostConfig, (name, destination) => pluginPaths.get(`${name}\0${destination}`) ?? this.d.store.dataPath(name));
  }

  /** After the task exited: unmount option volumes nobody else running uses. */
  async unmount(rec: ContainerRecord): Promise<void> {
    for (const mp of rec.mounts) {
      if (mp.Type !== 'volume' || !mp.Name) continue;
      const v = this.d.store.find(mp.Name);
      if (!v) continue;
      if (v.driver) await this.external.unmount(v, mountId(rec.id, mp.Destination));
      else if (needsMount(v.options) && this.d.users.runningUsersOf(v.name).every((id) => id === rec.id)) {
        await unmountOptionsVolume(this.d.store.dataPath(v.name));
      }
      this.d.events.publish('volume', 'unmount', v.name, { container: rec.id, driver: v.driver ?? 'local' });
    }
  }

  /** At container removal (the record is gone already): anonymous volumes go with `-v`/`--rm`. */
  async detach(rec: ContainerRecord, removeAnonymous: boolean): Promise<void> {
    if (!removeAnonymous) return;
    for (const mp of rec.mounts) {
      if (mp.Type !== 'volume' || !mp.Name) continue;
      const v = this.d.store.find(mp.Name);
      if (!v || !v.anonymous) continue;
      if (this.d.users.usersOf(v.name).some((id) => id !== rec.id)) continue;
      await this.destroy(v).catch((err: Error) => this.d.log.warn('removing an anonymous volume failed', { name: v.name, error: err.message }));
    }
  }
}
