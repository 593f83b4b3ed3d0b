/**
 * When each build cache item was last used and how often (BuildKit's
 * LastUsedAt / UsageCount), for `system df -v` and `builder prune`'s
 * `until` and `keep-storage`. One JSON file, written after each build:
 *
 *   <data-root>/build-cache-usage.json   {"<image id or cache dir>": [lastUsedMs, count]}
 */
import { readJson, writeJsonAtomic } from '../../lib/atomic-file.js';

export class CacheUsage {
  private readonly entries = new Map<string, [number, number]>();
  private loaded: Promise<void> | undefined;

  constructor(private readonly file: string) {}

  private load(): Promise<void> {
    this.loaded ??= readJson<Record<string, [number, number]>>(this.file).then(
      (v) => { for (const [k, e] of Object.entries(v)) if (!this.entries.has(k)) this.entries.set(k, e); },
      () => {}, // none yet
    );
    return this.loaded;
  }

  /** A step reused an image, or a RUN used a cache mount. */
  used(id: string, now = Date.now()): void {
    this.entries.set(id, [now, (this.entries.get(id)?.[1] ?? 0) + 1]);
  }

  async get(id: string): Promise<{ lastUsed: number; count: number } | undefined> {
    await this.load();
    const e = this.entries.get(id);
    return e ? { lastUsed: e[0], count: e[1] } : undefined;
  }

  async forget(ids: string[]): Promise<void> {
    await this.load();
    for (const id of ids) this.entries.delete(id);
    await this.save();
  }

  async save(): Promise<void> {
    await this.load();
    await writeJsonAtomic(this.file, Object.fromEntries(this.entries));
  }
}
