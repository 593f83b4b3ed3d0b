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
  constructor(private readonly d: VolumeServiceDeps) {}

  private view(v: VolumeRecord): Volume {
    return {
      CreatedAt: v.createdAt, Driver: 'local', Labels: v.labels, Mountpoint: this.d.store.dataPath(v.name),
      Name: v.name, Options: v.options, Scope: 'local',
    };
  }

  // ------------------------------------------------------------------ API

  async create(req: VolumeCreateRequest): Promise<Volume> {
    const driver = req.Driver || 'local';
    if (driver !== 'local') throw new NotFound('volume.unknown_driver', `error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    if (req.Name) checkVolumeName(req.Name);
    validateDriverOptions(req.DriverOpts);
    const name = req.Name || newId();
    const existed = this.d.store.find(name);
    const v = await this.d.store.create({
      name,
      labels: req.Labels ?? (req.Name ? null : { [ANONYMOUS_LABEL]: '' }),
      options: req.DriverOpts && Object.keys(req.DriverOpts).length ? req.DriverOpts : null,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      anonymous: !req.Name,
    });
    if (!existed) this.d.events.publish('volume', 'create', name, { driver: 'local' });
    return this.view(v);
  }

  /** Every volume with its size and number of containers using it (`system df`). */
  async usage(): Promise<Volume[]> {
    return Promise.all(this.d.store.list().map(async (v) => ({
      ...this.view(v), UsageData: { Size: await directorySize(this.d.store.dataPath(v.name)), RefCount: this.d.users.usersOf(v.name).length },
    })));
  }

  inspect(name: string): Volume {
    return this.view(this.d.store.get(name));
  }

  list(filters: Filters): VolumeListResponse {
    filters.accept(LIST_FILTERS);
    const dangling = filters.has('dangling') ? filters.bool('dangling', false) : undefined;
    const out = this.d.store.list().filter((v) => {
      if (dangling !== undefined && dangling !== (this.d.users.usersOf(v.name).length === 0)) return false;
      return filters.match('name', v.name) && filters.exact('driver', 'local') && filters.labels(v.labels);
    });
    return { Volumes: out.map((v) => this.view(v)), Warnings: null };
  }

  async remove(name: string, force = false): Promise<void> {
    const v = this.d.store.find(name);
    if (!v) {
      if (force) return;
      throw new NotFound('volume.not_found', `get ${name}: no such volume`);
    }
    const users = this.d.users.usersOf(name);
    if (users.length) throw new Conflict('volume.in_use', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.destroy(v);
  }

  private async destroy(v: VolumeRecord): Promise<void> {
    // never let a recursive delete walk into a mounted device or host directory
    await unmountOptionsVolume(this.d.store.dataPath(v.name));
    await this.d.store.delete(v.name);
    this.d.events.publish('volume', 'destroy', v.name, { driver: 'local' });
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
      const size = needsMount(v.options) ? 0 : await directorySize(this.d.store.dataPath(v.name)).catch(() => 0);
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
    if (hc.VolumeDriver && hc.VolumeDriver !== 'local') {
      throw new NotFound('volume.unknown_driver', `error looking up volume plugin ${hc.VolumeDriver}: plugin "${hc.VolumeDriver}" not found`);
    }
    const volumesFrom = (hc.VolumesFrom ?? []).map((spec) => {
      const { ref, mode } = parseVolumesFrom(spec);
      return { mounts: this.d.users.mountsOf(ref), mode };
    });
    const plan = planMounts({
      binds: hc.Binds ?? [], mounts: hc.Mounts ?? [], tmpfs: hc.Tmpfs ?? {}, volumesFrom,
      imageVolumes: Object.keys(rec.config.Volumes ?? {}),
    });
    for (const p of plan) if (p.create?.driverOpts) validateDriverOptions(p.create.driverOpts);
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
        const v = await this.create({
          ...(named ? { Name: mp.Name } : {}),
          ...(create?.driverOpts ? { DriverOpts: create.driverOpts } : {}),
          ...(create?.labels ? { Labels: named ? create.labels : { ...create.labels, [ANONYMOUS_LABEL]: '' } } : {}),
        });
        mp.Name = v.Name;
        mp.Source = v.Mountpoint;
      }
      mounts.push(mp);
    }
    rec.mounts = mounts;
  }

  /** Before the task starts: option mounts, missing bind sources, copy-up; the spec mounts. */
  async mount(rec: ContainerRecord, rootfs: string): Promise<SpecMount[]> {
    const binds = new Map((rec.hostConfig.Binds ?? []).map((b) => [b.split(':')[1], b]));
    for (const mp of rec.mounts) {
      if (mp.Type === 'bind' && binds.has(mp.Destination)) {
        // `-v /host/dir:/x` creates a missing host directory (docker's legacy behaviour)
        await mkdir(mp.Source, { recursive: true });
      }
      if (mp.Type !== 'volume') continue;
      const v = this.d.store.find(mp.Name!) ?? (await this.d.store.create({
        name: mp.Name!, labels: null, options: null, createdAt: new Date().toISOString(), anonymous: false,
      }));
      const data = this.d.store.dataPath(v.name);
      if (needsMount(v.options)) await mountOptionsVolume(v.options!, data);
      if (!noCopy(mp, rec.hostConfig)) await copyUp(rootfs, mp.Destination, data);
      this.d.events.publish('volume', 'mount', v.name, {
        container: rec.id, destination: mp.Destination, driver: 'local', propagation: mp.Propagation, 'read/write': String(mp.RW),
      });
    }
    return specMounts(rec.mounts, rec.hostConfig, (name) => this.d.store.dataPath(name));
  }

  /** After the task exited: unmount option volumes nobody else running uses. */
  async unmount(rec: ContainerRecord): Promise<void> {
    for (const mp of rec.mounts) {
      if (mp.Type !== 'volume' || !mp.Name) continue;
      const v = this.d.store.find(mp.Name);
      if (!v) continue;
      if (needsMount(v.options) && this.d.users.runningUsersOf(v.name).every((id) => id === rec.id)) {
        await unmountOptionsVolume(this.d.store.dataPath(v.name));
      }
      this.d.events.publish('volume', 'unmount', v.name, { container: rec.id, driver: 'local' });
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
