import { Command } from 'commander';
import { collect, type CliContext } from '../../context.js';
import { confirm } from '../../prompt.js';
import { printPrune, pruneImages } from '../../prune.js';

export function imagePruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
    .action(async (o: { all?: boolean; force?: boolean; filter: string[] }) => {
      const warning = o.all
        ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?'
        : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';
      if (!o.force && !(await confirm(ctx, warning))) return;
      printPrune(ctx, [await pruneImages(await ctx.client(), o.all === true, o.filter)]);
    });
}
