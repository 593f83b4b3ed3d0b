import { Command } from 'commander';
import type { ImageSummary } from '../../../api/types/index.js';
import { collect, type CliContext } from '../../context.js';
import { humanDuration, humanSize, table } from '../../format/simple.js';
import { filtersJson } from '../container/ps.js';

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
    .action(async (repo: string | undefined, o: { all?: boolean; quiet?: boolean; digests?: boolean; trunc: boolean; filter: string[] }) => {
      const c = await ctx.client();
      const filters = [...o.filter, ...(repo ? [`reference=${repo}`] : [])];
      const list = await c.get<ImageSummary[]>('/images/json', { all: o.all ? 1 : undefined, filters: filtersJson(filters) });
      const id = (s: string) => (o.trunc ? s.replace(/^sha256:/, '').slice(0, 12) : s);
      if (o.quiet) {
        for (const img of list) ctx.print(id(img.Id));
        return;
      }
      const now = Date.now();
      const rows = [['REPOSITORY', 'TAG', ...(o.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE']];
      for (const img of list) {
        const tags = img.RepoTags.length ? img.RepoTags : ['<none>:<none>'];
        for (const t of tags) {
          const i = t.lastIndexOf(':');
          const repoName = t.slice(0, i);
          const digest = img.RepoDigests.find((d) => d.startsWith(`${repoName}@`))?.split('@')[1] ?? '<none>';
          rows.push([repoName, t.slice(i + 1), ...(o.digests ? [digest] : []), id(img.Id), `${humanDuration(now - img.Created * 1000)} ago`, humanSize(img.Size)]);
        }
      }
      ctx.out.write(table(rows));
    });
}
