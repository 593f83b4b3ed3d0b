/**
 * Volume records of the local driver on disk, with an in-memory index.
 *
 *   volumes/<name>/volume.json   { name, labels, options, createdAt, anonymous, driver? }
 *   volumes/<name>/_data/        the content (or a mount point for --opt type=...); none for a plugin's volume
 *   volumes/.tmp-*               creations and removals in progress (swept at start-up)
 *
 * A volume appears by renaming a complete temp directory into place and
 * disappears by renaming it away first, so a crash never leaves half a volume.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFound } from '../../errdefs/index.js';
import { readJson, syncDir, tempPathFor, TEMP_PREFIX, writeJsonAtomic } from '../../lib/atomic-file.js';

export interface VolumeRecord {
  name: string;
  labels: Record<string, string> | null;
  /** Local driver options: type, device, o. */
  options: Record<string, string> | null;
  createdAt: string;
  anonymous: boolean;
  /** A volume plugin's name; absent for the local driver. The data lives with the plugin (no `_data`). */
  driver?: string;
}

export function noSuchVolume(name: string): NotFound {
  return new NotFound('volume.not_found', `get ${name}: no such volume`);
}

export class VolumeStore {
  private readonly byName = new Map<string, VolumeRecord>();

  constructor(readonly root: string) {}

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    for (const name of await readdir(this.root)) {
      if (name.startsWith(TEMP_PREFIX)) {
        await rm(join(this.root, name), { recursive: true, force: true });
        continue;
      }
      try {
        this.byName.set(name, await readJson<VolumeRecord>(join(this.root, name, 'volume.json')));
      } catch {
        // not a volume of ours (or a foreign file): leave it alone
      }
    }
  }

  dataPath(name: string): string {
    return join(this.root, name, '_data');
  }

  find(name: string): VolumeRecord | undefined {
    return this.byName.get(name);
  }

  get(name: string): VolumeRecord {
    const v = this.byName.get(name);
    if (!v) throw noSuchVolume(name);
    return v;
  }

  list(): VolumeRecord[] {
    return [...this.byName.values()];
  }

  /** Creates a volume unless one of that name exists; returns the record that is there now. */
  async create(rec: VolumeRecord): Promise<VolumeRecord> {
    const existing = this.byName.get(rec.name);
    if (existing) return existing;
    const tmp = tempPathFor(join(this.root, rec.name));
    await mkdir(rec.driver ? tmp : join(tmp, '_data'), { recursive: true, mode: 0o755 });
    try {
      await writeJsonAtomic(join(tmp, 'volume.json'), rec);
      await rename(tmp, join(this.root, rec.name));
      await syncDir(this.root);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      const raced = this.byName.get(rec.name);
      if (raced) return raced;
      throw err;
    }
    this.byName.set(rec.name, rec);
    return rec;
  }

  async delete(name: string): Promise<void> {
    if (!this.byName.has(name)) return;
    const doomed = tempPathFor(join(this.root, name));
    await rename(join(this.root, name), doomed);
    this.byName.delete(name);
    await rm(doomed, { recursive: true, force: true });
  }
}
