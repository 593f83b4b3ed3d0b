import { Command } from 'commander';
import type { ImageHistoryItem } from '../../../api/types/index.js';
import type { CliContext } from '../../context.js';
import { ellipsis, renderList, truncateID } from '../../format/formatter.js';
import { humanDuration, humanSizeWithPrecision } from '../../format/units.js';

export function historyCommand(ctx: CliContext): Command {
  return new Command('history')
    .description('Show the history of an image')
    .argument('<image>')
    .option('-H, --human [bool]', 'Print sizes and dates in human readable format', (v) => v !== 'false', true)
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs')
    .option('--format <string>', 'Format output using a custom template')
    .action(async (ref: string, o: { human: boolean; trunc: boolean; quiet?: boolean; format?: string }) => {
      const c = await ctx.client();
      const items = await c.get<ImageHistoryItem[]>(`/images/${ref.split('/').map(encodeURIComponent).join('/')}/history`);
      const now = Date.now();
      const rows = items.map((h) => {
        const id = h.Id === '<missing>' || !o.trunc ? h.Id : truncateID(h.Id);
        const createdBy = h.CreatedBy.replace(/\t/g, ' ');
        return {
          ID: id,
          CreatedSince: o.human ? `${humanDuration(now - h.Created * 1000)} ago` : new Date(h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
          CreatedAt: new Date(h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
          CreatedBy: o.trunc ? ellipsis(createdBy, 45) : createdBy,
          Size: o.human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
          Comment: h.Comment,
        };
      });
      ctx.out.write(renderList({
        format: o.format, quiet: !!o.quiet, rows, typeName: '*formatter.historyContext',
        defaultFormat: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
        headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
      }));
    });
}
