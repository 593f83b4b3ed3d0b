/**
 * The prune calls of `container/image/network/volume/builder prune` and
 * `system prune`, as docker/cli's RunPrune functions: each returns what it
 * reclaimed and its report ("Deleted Containers:" and the ids, or nothing);
 * the command prints the reports, then one total.
 */
import { Filters } from '../api/filters.js';
import type { ImagesPruneResponse, NetworkPruneResponse, VolumePruneResponse } from '../api/types/index.js';
import type { EngineClient } from '../client/engine-client.js';
import { humanSize } from '../lib/units.js';
import type { CliContext } from './context.js';

export interface PruneReport {
  reclaimed: number;
  output: string;
}

function report(title: string, items: string[] | null | undefined, reclaimed = 0): PruneReport {
  return { reclaimed, output: items?.length ? `${title}\n${items.map((i) => `${i}\n`).join('')}` : '' };
}

const query = (filters: string[]) => ({ filters: Filters.fromFlags(filters).toQuery() });

export async function pruneContainers(c: EngineClient, filters: string[]): Promise<PruneReport> {
  const r = await c.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: query(filters) });
  return report('Deleted Containers:', r.ContainersDeleted, r.SpaceReclaimed);
}

export async function pruneNetworks(c: EngineClient, filters: string[]): Promise<PruneReport> {
  const r = await c.json<NetworkPruneResponse>('POST', '/networks/prune', { query: query(filters) });
  return report('Deleted Networks:', r.NetworksDeleted);
}

/** Anonymous volumes only, unless `all`. */
export async function pruneVolumes(c: EngineClient, all: boolean, filters: string[]): Promise<PruneReport> {
  const r = await c.json<VolumePruneResponse>('POST', '/volumes/prune', { query: query([...filters, ...(all ? ['all=true'] : [])]) });
  return report('Deleted Volumes:', r.VolumesDeleted, r.SpaceReclaimed);
}

/** Dangling images only, unless `all`. */
export async function pruneImages(c: EngineClient, all: boolean, filters: string[]): Promise<PruneReport> {
  const r = await c.json<ImagesPruneResponse>('POST', '/images/prune', { query: query([...filters, `dangling=${all ? 'false' : 'true'}`]) });
  const lines = r.ImagesDeleted?.map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`));
  return report('Deleted Images:', lines, r.SpaceReclaimed);
}

export async function pruneBuildCache(c: EngineClient, all: boolean, filters: string[], keepStorage?: number): Promise<PruneReport> {
  const r = await c.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', {
    query: { ...query(filters), ...(all ? { all: 1 } : {}), ...(keepStorage ? { 'keep-storage': keepStorage } : {}) },
  });
  return report('Deleted build cache objects:', r.CachesDeleted, r.SpaceReclaimed);
}

/** The reports that have something, then the total (docker prints no total for networks). */
export function printPrune(ctx: CliContext, reports: PruneReport[], total = true): void {
  for (const r of reports) if (r.output) ctx.print(r.output);
  if (total) ctx.print(`Total reclaimed space: ${humanSize(reports.reduce((n, r) => n + r.reclaimed, 0))}`);
}
