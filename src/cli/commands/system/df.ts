import { Command } from 'commander';
import type { DiskUsage } from '../../../api/types/index.js';
import type { CliContext } from '../../context.js';
import { humanDuration, humanSize, renderRows, table, truncate } from '../../format/simple.js';

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
  return [
    { Type: 'Images', TotalCount: String(du.Images.length), Active: String(imagesActive.length), Size: humanSize(du.LayersSize), Reclaimable: reclaimable(Math.max(0, du.LayersSize - used), du.LayersSize) },
    { Type: 'Containers', TotalCount: String(du.Containers.length), Active: String(du.Containers.filter((c) => c.State === 'running').length), Size: humanSize(containerSize), Reclaimable: reclaimable(idle, containerSize) },
    { Type: 'Local Volumes', TotalCount: String(du.Volumes.length), Active: '0', Size: '0B', Reclaimable: '0B' },
    { Type: 'Build Cache', TotalCount: String(du.BuildCache.length), Active: '0', Size: '0B', Reclaimable: '0B' },
  ];
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
      if (o.format && o.format !== 'table' && !o.verbose) {
        ctx.out.write(renderRows(o.format, rows, { TotalCount: 'TOTAL' }));
        return;
      }
      if (!o.verbose) {
        ctx.out.write(table([['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], ...rows.map((r) => [r.Type!, r.TotalCount!, r.Active!, r.Size!, r.Reclaimable!])]));
        return;
      }
      const now = Date.now();
      ctx.print('Images space usage:\n');
      const img = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']];
      for (const i of du.Images) {
        const tags = i.RepoTags.length ? i.RepoTags : ['<none>:<none>'];
        for (const t of tags) {
          const k = t.lastIndexOf(':');
          img.push([t.slice(0, k), t.slice(k + 1), i.Id.replace(/^sha256:/, '').slice(0, 12), `${humanDuration(now - i.Created * 1000)} ago`,
            humanSize(i.Size), humanSize(Math.max(0, i.SharedSize)), humanSize(i.Size - Math.max(0, i.SharedSize)), String(i.Containers)]);
        }
      }
      ctx.out.write(table(img));
      ctx.print('\nContainers space usage:\n');
      const ctr = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES']];
      for (const k of du.Containers) {
        ctr.push([k.Id.slice(0, 12), k.Image, JSON.stringify(truncate(k.Command, 20)), '0', humanSize(k.SizeRw ?? 0),
          `${humanDuration(now - k.Created * 1000)} ago`, k.Status, k.Names.map((n) => n.replace(/^\//, '')).join(',')]);
      }
      ctx.out.write(table(ctr));
      ctx.print('\nLocal Volumes space usage:\n');
      ctx.out.write(table([['VOLUME NAME', 'LINKS', 'SIZE']]));
      ctx.print('\nBuild cache usage: 0B\n');
      ctx.out.write(table([['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED']]));
    });
}
