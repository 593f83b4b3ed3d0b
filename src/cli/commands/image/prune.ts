import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { ImagesPruneResponse } from '../../../api/types/index.js';
import { collect, type CliContext } from '../../context.js';
import { humanSize } from '../../../lib/units.js';

/** Asks docker's `[y/N]` question on stderr; anything but y/yes is no. */
export async function confirm(ctx: CliContext, warning: string): Promise<boolean> {
  ctx.err.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: process.stdin });
  try {
    const answer = await rl.question('');
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

export function imagePruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
    .action(async (o: { all?: boolean; force?: boolean; filter: string[] }) => {
      const warning = o.all
        ? 'WARNING! This will remove all images without at least one container associated to them.'
        : 'WARNING! This will remove all dangling images.';
      if (!o.force && !(await confirm(ctx, warning))) return;
      const c = await ctx.client();
      const res = await c.json<ImagesPruneResponse>('POST', '/images/prune', {
        query: { filters: Filters.fromFlags([...o.filter, `dangling=${o.all ? 'false' : 'true'}`]).toQuery() },
      });
      if (res.ImagesDeleted?.length) {
        ctx.print('Deleted Images:');
        for (const d of res.ImagesDeleted) ctx.print(d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`);
        ctx.print();
      }
      ctx.print(`Total reclaimed space: ${humanSize(res.SpaceReclaimed)}`);
    });
}
