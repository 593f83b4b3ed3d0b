/**
 * Container records on disk and the in-memory index every read is served
 * from (`ps` never touches the disk or waits on a container's lock).
 *
 *   containers/<id>/
 *     config.v2.json     the record, written atomically
 *     hostname, hosts, resolv.conf
 *     <id>-json.log      the json-file log
 *     init/              the init layer (mount points, /.dockerenv)
 *     rw/diff, rw/work   overlay upper and work dirs
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { readJson, writeJsonAtomic } from '../../lib/atomic-file.js';
import type { ContainerRecord } from './record.js';
import { containerPaths, initLayerPath, type ContainerPaths } from './rootfs.js';

export function noSuchContainer(ref: string): NotFound {
  return new NotFound('container.not_found', `No such container: ${ref}`);
}

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();
  private readonly saving = new Map<string, Promise<void>>();
  /** Bumped on every save: cached views of a record (the `ps` rows) compare it. */
  private readonly versions = new Map<string, number>();

  constructor(readonly root: string) {}

  async init(): Promise<ContainerRecord[]> {
    await mkdir(this.root, { recursive: true });
    for (const id of await readdir(this.root)) {
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      try {
        const rec = await readJson<ContainerRecord>(join(this.root, id, 'config.v2.json'));
        this.byId.set(rec.id, rec);
        this.byName.set(rec.name, rec.id);
      } catch {
        // no record: a create that never finished; nothing references the directory
        await rm(join(this.root, id), { recursive: true, force: true });
      }
    }
    return this.list();
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  /** The init layer all these containers share. */
  get initLayer(): string {
    return initLayerPath(this.root);
  }

  /** Where a container's files live (rootfs layers, logs, hosts files...). */
  paths(id: string): ContainerPaths {
    return containerPaths(this.dir(id), id, this.initLayer);
  }

  /** Claims a name for a new container, or says who has it (Docker's wording). */
  reserveName(name: string, id: string): void {
    const owner = this.byName.get(name);
    if (owner && owner !== id) {
      throw new Conflict('container.name_in_use', `Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  nameTaken(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Persists a record. Saves of one container run one after the other, each
   * writing the record as it is then, so the file never goes back in time.
   */
  save(rec: ContainerRecord): Promise<void> {
    this.byId.set(rec.id, rec);
    this.versions.set(rec.id, (this.versions.get(rec.id) ?? 0) + 1);
    const prev = this.saving.get(rec.id) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(() => writeJsonAtomic(join(this.dir(rec.id), 'config.v2.json'), rec));
    this.saving.set(rec.id, next);
    void next.finally(() => {
      if (this.saving.get(rec.id) === next) this.saving.delete(rec.id);
    }).catch(() => {});
    return next;
  }

  /** Forgets a container and deletes its directory. */
  async delete(id: string): Promise<void> {
    const rec = this.byId.get(id);
    await this.saving.get(id)?.catch(() => {});
    // drop the record file first: a crash after this leaves only a directory the start-up sweep removes
    await rm(join(this.dir(id), 'config.v2.json'), { force: true });
    this.byId.delete(id);
    this.versions.delete(id);
    if (rec) this.releaseName(rec.name, id);
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** By full id, name (with or without `/`), or unique id prefix. */
  get(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw noSuchContainer(ref);
    return rec;
  }

  find(ref: string): ContainerRecord | undefined {
    const direct = this.byId.get(ref);
    if (direct) return direct;
    const byName = this.byName.get(ref.replace(/^\//, ''));
    if (byName) return this.byId.get(byName);
    if (!/^[a-f0-9]+$/.test(ref)) return undefined;
    let hit: ContainerRecord | undefined;
    for (const rec of this.byId.values()) {
      if (!rec.id.startsWith(ref)) continue;
      if (hit) throw new InvalidParameter('container.ambiguous_id', `Multiple IDs found with provided prefix: ${ref}`);
      hit = rec;
    }
    return hit;
  }

  /** How many times a container's record was saved (0 for one loaded at start-up). */
  version(id: string): number {
    return this.versions.get(id) ?? 0;
  }

  get count(): number {
    return this.byId.size;
  }

  list(): ContainerRecord[] {
    return [...this.byId.values()];
  }
}
