/** `berth builder build|prune` (docker builder's commands: build is `berth build`). */
import { Command, InvalidArgumentError } from 'commander';
import { ramInBytes } from '../../../lib/units.js';
import { collect, type CliContext } from '../../context.js';
import { confirm } from '../../prompt.js';
import { printPrune, pruneBuildCache } from '../../prune.js';
import { buildCommand } from '../image/build.js';

export function builderCommands(ctx: CliContext): Command[] {
  const prune = new Command('prune')
    .description('Remove build cache')
    .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=24h")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--keep-storage <bytes>', 'Amount of disk space to keep for cache', (v: string) => {
      try {
        return ramInBytes(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    })
    .action(async (o: { all?: boolean; force?: boolean; filter: string[]; keepStorage?: number }) => {
      const warning = o.all
        ? 'WARNING! This will remove all build cache. Are you sure you want to continue?'
        : 'WARNING! This will remove all dangling build cache. Are you sure you want to continue?';
      if (!o.force && !(await confirm(ctx, warning))) return;
      printPrune(ctx, [await pruneBuildCache(await ctx.client(), o.all === true, o.filter, o.keepStorage)]);
    });
  return [buildCommand(ctx), prune];
}
