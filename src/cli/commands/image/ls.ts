import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { ImageSummary } from '../../../api/types/index.js';
import { collect, type CliContext } from '../../context.js';
import { renderList, truncateID } from '../../format/formatter.js';
import { humanDuration, humanSize, humanSizeWithPrecision } from '../../../lib/units.js';

/** One `docker images` row with docker's field names, so `--format` templates work unchanged. */
export interface ImageRow {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  Containers: string;
  SharedSize: string;
  UniqueSize: string;
  VirtualSize: string;
}

const HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

export function imageRows(list: ImageSummary[], o: { digests: boolean; trunc: boolean }, now = Date.now()): ImageRow[] {
  const rows: ImageRow[] = [];
  const na = (n: number) => (n < 0 ? 'N/A' : humanSize(n));
  for (const img of list) {
    const id = o.trunc ? truncateID(img.Id) : img.Id;
    const base = {
      ID: id, CreatedSince: `${humanDuration(now - img.Created * 1000)} ago`,
      CreatedAt: new Date(img.Created * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
      Size: humanSizeWithPrecision(img.Size, 3), Containers: img.Containers < 0 ? 'N/A' : String(img.Containers),
      SharedSize: na(img.SharedSize), UniqueSize: img.SharedSize < 0 ? 'N/A' : humanSize(img.Size - img.SharedSize),
      VirtualSize: humanSizeWithPrecision(img.VirtualSize ?? img.Size, 3),
    };
    const digests = img.RepoDigests ?? [];
    const tags = img.RepoTags?.length ? img.RepoTags : [];
    if (!tags.length) {
      // untagged: one row per repo digest (with --digests), else a single <none> row
      const shown = o.digests && digests.length ? digests : [''];
      for (const d of shown) rows.push({ ...base, Repository: d ? d.split('@')[0]! : '<none>', Tag: '<none>', Digest: d ? d.split('@')[1]! : '<none>' });
      continue;
    }
    for (const t of tags) {
      const i = t.lastIndexOf(':');
      const repo = t.slice(0, i);
      const digest = digests.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
      rows.push({ ...base, Repository: repo, Tag: t.slice(i + 1), Digest: digest });
    }
  }
  return rows;
}

export function imagesCommand(ctx: CliContext, name = 'images'): Command {
  return new Command(name)
    .description('List images')
    .argument('[repository]')
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('-q, --quiet', 'Only show image IDs')
    .option('--digests', 'Show digests')
    .option('--no-trunc', "Don't truncate output")
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .action(async (repo: string | undefined, o: { all?: boolean; quiet?: boolean; digests?: boolean; trunc: boolean; filter: string[]; format?: string }) => {
      const c = await ctx.client();
      const filters = [...o.filter, ...(repo ? [`reference=${repo}`] : [])];
      const list = await c.get<ImageSummary[]>('/images/json', { all: o.all ? 1 : undefined, filters: Filters.fromFlags(filters).toQuery() });
      const rows = imageRows(list, { digests: !!o.digests, trunc: o.trunc });
      const defaultFormat = o.digests
        ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
        : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
      ctx.out.write(renderList({ format: o.format, defaultFormat, quiet: !!o.quiet, rows, headers: HEADERS, typeName: '*formatter.imageContext' }));
    });
}
