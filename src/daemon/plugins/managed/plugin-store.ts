/**
 * Managed plugins on disk, with an in-memory index by id and name:
 *
 *   <data-root>/plugins/
 *     <id>/config.json     the Plugin object as the API shows it (written atomically)
 *     <id>/rootfs/         the plugin's filesystem, run as its container's root
 *     tmp/<random>/        a create or pull being unpacked; swept at start
 *
 * A plugin is in the store once its directory holds config.json: a crash
 * before that leaves only a tmp/ directory, removed at the next start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter, NotFound } from '../../../errdefs/index.js';
import { readJson, writeJsonAtomic } from '../../../lib/atomic-file.js';
import type { Logger } from '../../../lib/logger.js';
import { withLatest, type PluginObject } from './config.js';

export function noSuchPlugin(ref: string): NotFound {
  return new NotFound('plugin.not_found', `plugin "${ref}" not found`);
}

export class PluginStore {
  private readonly byId = new Map<string, PluginObject>();

  constructor(readonly root: string, private readonly log: Logger) {}

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await rm(this.tmpRoot, { recursive: true, force: true });
    for (const e of await readdir(this.root, { withFileTypes: true })) {
      if (!e.isDirectory() || !/^[0-9a-f]{64}$/.test(e.name)) continue;
      try {
        const p = await readJson<PluginObject>(join(this.root, e.name, 'config.json'));
        if (p.Id === e.name) this.byId.set(p.Id, p);
      } catch (err) {
        // never finished (or damaged): without a record nothing refers to it
        this.log.warn('removing a plugin directory without a usable record', { id: e.name, error: (err as Error).message });
        await rm(join(this.root, e.name), { recursive: true, force: true });
      }
    }
  }

  get tmpRoot(): string {
    return join(this.root, 'tmp');
  }

  /** A fresh directory for unpacking, on the same filesystem as the store (so commit is a rename). */
  async tempDir(): Promise<string> {
    const dir = join(this.tmpRoot, randomBytes(8).toString('hex'));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  rootfs(id: string): string {
    return join(this.root, id, 'rootfs');
  }

  list(): PluginObject[] {
    return [...this.byId.values()].sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** By full name (`vol` means `vol:latest`), full id, or a unique id prefix (moby's GetV2Plugin). */
  find(ref: string): PluginObject | undefined {
    const full = withLatest(ref);
    for (const p of this.byId.values()) if (p.Name === full) return p;
    if (this.byId.has(ref)) return this.byId.get(ref);
    if (/^[0-9a-f]+$/.test(ref)) {
      const hits = [...this.byId.keys()].filter((id) => id.startsWith(ref));
      if (hits.length > 1) throw new InvalidParameter('plugin.ambiguous', `multiple plugins found for "${ref}"`);
      if (hits.length === 1) return this.byId.get(hits[0]!);
    }
    return undefined;
  }

  get(ref: string): PluginObject {
    const p = this.find(ref);
    if (!p) throw noSuchPlugin(ref);
    return p;
  }

  byName(name: string): PluginObject | undefined {
    const full = withLatest(name);
    return [...this.byId.values()].find((p) => p.Name === full);
  }

  /** Moves an unpacked directory (holding rootfs/) into place and records the plugin. */
  async commit(tmp: string, p: PluginObject): Promise<void> {
    await writeJsonAtomic(join(tmp, 'config.json'), p);
    await rename(tmp, this.dir(p.Id));
    this.byId.set(p.Id, p);
  }

  async save(p: PluginObject): Promise<void> {
    await writeJsonAtomic(join(this.dir(p.Id), 'config.json'), p);
    this.byId.set(p.Id, p);
  }

  async remove(id: string): Promise<void> {
    this.byId.delete(id);
    // rename first: a crash mid-delete leaves a tmp/ directory, not a half plugin
    const gone = join(this.tmpRoot, `rm-${id}`);
    await mkdir(this.tmpRoot, { recursive: true });
    await rename(this.dir(id), gone).catch(() => undefined);
    await rm(gone, { recursive: true, force: true });
  }
}
