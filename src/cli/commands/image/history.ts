import { Command } from 'commander';
import type { ImageHistoryItem } from '../../../api/types/index.js';
import type { CliContext } from '../../context.js';
import { humanDuration, humanSize, renderRows, table, truncate } from '../../format/simple.js';

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
        const id = h.Id === '<missing>' || !o.trunc ? h.Id : h.Id.replace(/^sha256:/, '').slice(0, 12);
        const createdBy = h.CreatedBy.replace(/\t/g, ' ');
        return {
          ID: id,
          CreatedSince: o.human ? `${humanDuration(now - h.Created * 1000)} ago` : new Date(h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
          CreatedAt: new Date(h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
          CreatedBy: o.trunc ? truncate(createdBy, 45) : createdBy,
          Size: o.human ? humanSize(h.Size) : String(h.Size),
          Comment: h.Comment,
        };
      });
      if (o.quiet) {
        for (const r of rows) ctx.print(r.ID);
        return;
      }
      if (o.format && o.format !== 'table') {
        ctx.out.write(renderRows(o.format, rows, { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedBy: 'CREATED BY' }));
        return;
      }
      ctx.out.write(table([['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], ...rows.map((r) => [r.ID, r.CreatedSince, r.CreatedBy, r.Size, r.Comment])]));
    });
}
