/**
 * Mark and sweep: every blob some manifest revision references (its own
 * bytes, config, layers, an index's manifests) is kept; the rest goes, with
 * its repository links. Blobs younger than the grace period are kept too: a
 * push uploads its blobs before the manifest that references them, so a
 * push running during gc loses nothing.
 */
import type { StorageDriver } from './storage/driver.js';
import { PathNotFound } from './storage/errors.js';

export interface GcOptions {
  dryRun: boolean;
  /** Blobs written less than this long ago are never deleted. */
  graceMs?: number;
}

export async function gc(driver: StorageDriver, o: GcOptions): Promise<{ deleted: string[]; kept: number }> {
  const grace = o.graceMs ?? 60 * 60 * 1000;
  const marked = new Set<string>();
  const repos: string[] = [];
  const walk = async (prefix: string) => {
    for (const entry of await driver.list(`repositories/${prefix}`)) {
      if (entry.startsWith('_')) continue;
      const name = prefix ? `${prefix}/${entry}` : entry;
      repos.push(name);
      await walk(name);
    }
  };
  await walk('');
  for (const name of repos) {
    for (const hex of await driver.list(`repositories/${name}/_manifests/revisions/sha256`)) {
      marked.add(hex);
      try {
        const m = JSON.parse((await driver.getContent(`blobs/sha256/${hex}/data`)).toString('utf8')) as { config?: { digest?: string }; layers?: { digest?: string }[]; manifests?: { digest?: string }[] };
        for (const d of [m.config, ...(m.layers ?? []), ...(m.manifests ?? [])]) if (d?.digest?.startsWith('sha256:')) marked.add(d.digest.slice(7));
      } catch (err) {
        // a manifest gone meanwhile or not JSON references nothing we can know of; storage down stops gc
        // (carrying on would delete blobs that manifests we could not read still reference)
        if (!(err instanceof PathNotFound || err instanceof SyntaxError)) throw err;
      }
    }
  }
  const deleted: string[] = [];
  let kept = 0;
  for (const hex of await driver.list('blobs/sha256')) {
    const info = await driver.stat(`blobs/sha256/${hex}/data`);
    if (marked.has(hex) || !info || Date.now() - info.modTime.getTime() < grace) {
      kept++;
      continue;
    }
    deleted.push(`sha256:${hex}`);
    if (o.dryRun) continue;
    await driver.delete(`blobs/sha256/${hex}`);
    for (const name of repos) await driver.delete(`repositories/${name}/_layers/sha256/${hex}`);
  }
  return { deleted, kept };
}
