/** `berth volume create|ls|inspect|rm|prune` (docker volume's flags and output). */
import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { Volume, VolumeListResponse } from '../../../api/types/index.js';
import { collect, keyValues, type CliContext } from '../../context.js';
import { forEachRef, inspectEach } from '../../each.js';
import { renderList } from '../../format/formatter.js';
import { confirm } from '../../prompt.js';
import { printPrune, pruneVolumes } from '../../prune.js';

export function volumeCommands(ctx: CliContext): Command[] {
  const create = new Command('create')
    .description('Create a volume')
    .argument('[volume]')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume', collect, [])
    .option('-o, --opt <map>', 'Set driver specific options', collect, [])
    .option('--name <string>', 'Specify volume name')
    .action(async (name: string | undefined, o: { driver: string; label: string[]; opt: string[]; name?: string }) => {
      const c = await ctx.client();
      const v = await c.json<Volume>('POST', '/volumes/create', {
        body: { Name: name ?? o.name ?? '', Driver: o.driver, DriverOpts: keyValues(o.opt), Labels: keyValues(o.label) },
      });
      ctx.print(v.Name);
    });

  const ls = new Command('ls').alias('list')
    .description('List volumes')
    .option('-q, --quiet', 'Only display volume names')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .action(async (o: { quiet?: boolean; filter: string[]; format?: string }) => {
      const c = await ctx.client();
      const res = await c.get<VolumeListResponse>('/volumes', { filters: Filters.fromFlags(o.filter).toQuery() });
      const vols = [...res.Volumes].sort((a, b) => a.Name.localeCompare(b.Name));
      ctx.out.write(renderList({
        format: o.format, quiet: o.quiet, quietFormat: '{{.Name}}', defaultFormat: 'table {{.Driver}}\t{{.Name}}',
        headers: { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Scope: 'SCOPE', Labels: 'LABELS' },
        rows: vols.map((v) => ({
          Driver: v.Driver, Name: v.Name, Mountpoint: v.Mountpoint, Scope: v.Scope,
          Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
        })),
      }));
    });

  const inspect = new Command('inspect')
    .description('Display detailed information on one or more volumes')
    .argument('<volume...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (names: string[], o: { format?: string }) => {
      const c = await ctx.client();
      await inspectEach(ctx, names, (n) => c.get<Volume>(`/volumes/${encodeURIComponent(n)}`), o.format);
    });

  const rm = new Command('rm').alias('remove')
    .description('Remove one or more volumes')
    .argument('<volume...>')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action(async (names: string[], o: { force?: boolean }) => {
      const c = await ctx.client();
      await forEachRef(ctx, names, async (n) => {
        await c.delete(`/volumes/${encodeURIComponent(n)}`, { force: o.force ? 1 : undefined });
        ctx.print(n);
      });
    });

  const prune = new Command('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', "Provide filter values (e.g. 'label=<label>')", collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; force?: boolean; filter: string[] }) => {
      const warning = o.all
        ? 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?'
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
      if (!o.force && !(await confirm(ctx, warning))) return;
      printPrune(ctx, [await pruneVolumes(await ctx.client(), o.all === true, o.filter)]);
    });

  return [create, ls, inspect, rm, prune];
}
