import { Command } from 'commander';
import type { DiskUsage } from '../../../api/types/index.js';
import type { CliContext } from '../../context.js';
import { ellipsis, renderList, truncateID } from '../../format/formatter.js';
import { humanDuration, humanSize } from '../../../lib/units.js';

function reclaimable(size: number, total: number): string {
  const pct = total > 0 ? Math.round((size * 100) / total) : 0;
  return total > 0 ? `${humanSize(size)} (${pct}%)` : humanSize(size);
}

/** The summary rows docker prints (fields as in docker's formatter: .Type .TotalCount .Active .Size .Reclaimable). */
export function dfRows(du: DiskUsage): Record<string, string>[] {
  const imagesActive = du.Images.filter((i) => i.Containers > 0);
  const used = imagesActive.reduce((n, i) => n + (i.Size - Math.max(0, i.SharedSize)), 0);
  const containerSize = du.Containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const idle = du.Containers.filter((c) => c.State !== 'running').reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const volumeSize = du.Volumes.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const unusedVolumes = du.Volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  return [
    { Type: 'Images', TotalCount: String(du.Images.length), Active: String(imagesActive.length), Size: humanSize(du.LayersSize), Reclaimable: reclaimable(Math.max(0, du.LayersSize - used), du.LayersSize) },
    { Type: 'Containers', TotalCount: String(du.Containers.length), Active: String(du.Containers.filter((c) => c.State === 'running').length), Size: humanSize(containerSize), Reclaimable: reclaimable(idle, containerSize) },
    { Type: 'Local Volumes', TotalCount: String(du.Volumes.length), Active: String(du.Volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volumeSize), Reclaimable: reclaimable(unusedVolumes, volumeSize) },
    buildCacheRow(du),
  ];
}

/** docker's diskUsageBuilderContext: size of unshared records; reclaimable = BuilderSize minus unshared records in use. */
function buildCacheRow(du: DiskUsage): Record<string, string> {
  const unshared = du.BuildCache.filter((b) => !b.Shared);
  const size = unshared.reduce((n, b) => n + b.Size, 0);
  const inUse = unshared.filter((b) => b.InUse).reduce((n, b) => n + b.Size, 0);
  return {
    Type: 'Build Cache', TotalCount: String(du.BuildCache.length), Active: String(du.BuildCache.filter((b) => b.InUse).length),
    Size: humanSize(size), Reclaimable: humanSize((du.BuilderSize ?? size) - inUse),
  };
}

export function dfCommand(ctx: CliContext): Command {
  return new Command('df')
    .description('Show docker disk usage')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .option('--format <string>', 'Format output using a custom template')
    .action(async (o: { verbose?: boolean; format?: string }) => {
      const c = await ctx.client();
      const du = await c.get<DiskUsage>('/system/df');
      const rows = dfRows(du);
      if (!o.verbose) {
        ctx.out.write(renderList({
          format: o.format, rows, typeName: '*formatter.diskUsageContext',
          defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
          headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
        }));
        return;
      }
      const now = Date.now();
      const since = (unix: number) => `${humanDuration(now - unix * 1000)} ago`;
      ctx.print('Images space usage:\n');
      ctx.out.write(renderList({
        defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
        headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' },
        rows: du.Images.flatMap((i) => (i.RepoTags.length ? i.RepoTags : ['<none>:<none>']).map((t) => {
          const k = t.lastIndexOf(':');
          return {
            Repository: t.slice(0, k), Tag: t.slice(k + 1), ID: truncateID(i.Id), CreatedSince: since(i.Created), Size: humanSize(i.Size),
            SharedSize: humanSize(Math.max(0, i.SharedSize)), UniqueSize: humanSize(i.Size - Math.max(0, i.SharedSize)), Containers: String(i.Containers),
          };
        })),
      }));
      ctx.print('\nContainers space usage:\n');
      ctx.out.write(renderList({
        defaultFormat: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
        headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' },
        rows: du.Containers.map((k) => ({
          ID: truncateID(k.Id), Image: k.Image, Command: JSON.stringify(ellipsis(k.Command, 20)), LocalVolumes: '0', Size: humanSize(k.SizeRw ?? 0),
          RunningFor: since(k.Created), Status: k.Status, Names: k.Names.map((n) => n.replace(/^\//, '')).join(','),
        })),
      }));
      ctx.print('\nLocal Volumes space usage:\n');
      ctx.out.write(renderList({ defaultFormat: 'table {{.Name}}\t{{.Links}}\t{{.Size}}', headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' },
        rows: du.Volumes.map((v) => ({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0), Size: humanSize(Math.max(0, v.UsageData?.Size ?? 0)) })) }));
      ctx.print(`\nBuild cache usage: ${humanSize(du.BuilderSize ?? 0)}\n`);
      ctx.out.write(renderList({
        defaultFormat: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
        headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
        rows: du.BuildCache.map((b) => ({
          ID: b.ID.replace(/^sha256:/, '').slice(0, 12), CacheType: b.Type, Size: humanSize(b.Size), CreatedSince: `${humanDuration(now - Date.parse(b.CreatedAt))} ago`,
          LastUsedSince: b.LastUsedAt ? `${humanDuration(now - Date.parse(b.LastUsedAt))} ago` : '', UsageCount: String(b.UsageCount), Shared: String(b.Shared),
        })),
      }));
    });
}
