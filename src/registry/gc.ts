/**
 * Mark and sweep: every blob some manifest revision references (its own
 * bytes, config, layers, an index's manifests) is kept; the rest goes, with
 * its repository links. Blobs younger than the grace period are kept too: a
 * push uploads its blobs before the manifest that references them, so a
 * push running during gc loses nothing.
 */
import type { StorageDriver } from './storage/driver.js';
import { isSha256Digest } from '../oci/index.js';
import { PathNotFound } from './storage/errors.js';
import { blobDataPath, blobDir, blobsDir, digestsIn, layerDir, repositoryNames, revisionsDir } from './storage/paths.js';

export interface GcOptions {
  dryRun: boolean;
  /** Blobs written less than this long ago are never deleted. */
  graceMs?: number;
}

export async function gc(driver: StorageDriver, o: GcOptions): Promise<{ deleted: string[]; kept: number }> {
  const grace = o.graceMs ?? 60 * 60 * 1000;
  const marked = new Set<string>();
  const repos = await repositoryNames(driver);
  for (const name of repos) {
    for (const digest of digestsIn(await driver.list(revisionsDir(name)))) {
      marked.add(digest);
      try {
        const m = JSON.parse((await driver.getContent(blobDataPath(digest))).toString('utf8')) as { config?: { digest?: string }; layers?: { digest?: string }[]; manifests?: { digest?: string }[] };
        for (const d of [m.config, ...(m.layers ?? []), ...(m.manifests ?? [])]) if (typeof d?.digest === 'string' && isSha256Digest(d.digest)) marked.add(d.digest);
      } catch (err) {
        // a manifest gone meanwhile or not JSON references nothing we can know of; storage down stops gc
        // (carrying on would delete blobs that manifests we could not read still reference)
        if (!(err instanceof PathNotFound || err instanceof SyntaxError)) throw err;
      }
    }
  }
  const deleted: string[] = [];
  let kept = 0;
  for (const digest of digestsIn(await driver.list(blobsDir))) {
    const info = await driver.stat(blobDataPath(digest));
    if (marked.has(digest) || !info || Date.now() - info.modTime.getTime() < grace) {
      kept++;
      continue;
    }
    deleted.push(digest);
    if (o.dryRun) continue;
    await driver.delete(blobDir(digest));
    for (const name of repos) await driver.delete(layerDir(name, digest));
  }
  return { deleted, kept };
}
