/** `berth system prune`: docker's order and wording (containers, networks, volumes when asked, images, build cache). */
import { Command } from 'commander';
import { collect, ExitError, type CliContext } from '../../context.js';
import { confirm } from '../../prompt.js';
import { printPrune, pruneBuildCache, pruneContainers, pruneImages, pruneNetworks, pruneVolumes, type PruneReport } from '../../prune.js';

interface PruneOptions {
  all?: boolean;
  force?: boolean;
  volumes?: boolean;
  filter: string[];
}

/** docker/cli's confirmation template: what goes, the filters (sorted, as its filter set lists them), the question. */
function warning(o: PruneOptions): string {
  const what = [
    'all stopped containers',
    'all networks not used by at least one container',
    ...(o.volumes ? ['all anonymous volumes not used by at least one container'] : []),
    o.all ? 'all images without at least one container associated to them' : 'all dangling images',
    o.all ? 'all build cache' : 'unused build cache',
  ];
  const filters = o.filter.length ? `\n  Items to be pruned will be filtered with:${[...o.filter].sort().map((f) => `\n  - ${f}`).join('')}\n` : '';
  return `WARNING! This will remove:${what.map((w) => `\n  - ${w}`).join('')}\n${filters}\nAre you sure you want to continue?`;
}

export function systemPruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove unused data')
    .option('-a, --all', 'Remove all unused images not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--volumes', 'Prune anonymous volumes')
    .action(async (o: PruneOptions) => {
      if (o.volumes && o.filter.some((f) => f.startsWith('until='))) throw new ExitError(1, 'ERROR: The "until" filter is not supported with "--volumes"');
      if (!o.force && !(await confirm(ctx, warning(o)))) return;
      const c = await ctx.client();
      const all = o.all === true;
      const reports: PruneReport[] = [await pruneContainers(c, o.filter), await pruneNetworks(c, o.filter)];
      if (o.volumes) reports.push(await pruneVolumes(c, false, o.filter));
      reports.push(await pruneImages(c, all, o.filter), await pruneBuildCache(c, all, o.filter));
      printPrune(ctx, reports);
    });
}
