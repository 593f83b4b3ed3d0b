import { Command } from 'commander';
import type { ContainerSummary } from '../../../api/types/index.js';
import { collect, type CliContext } from '../../context.js';
import { humanDuration, humanSize, table, truncate } from '../../format/simple.js';

/** `--filter k=v` flags → the API's map-of-bool filters JSON. */
export function filtersJson(list: string[]): string | undefined {
  if (!list.length) return undefined;
  const f: Record<string, Record<string, boolean>> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`bad format of filter (expected name=value)`);
    (f[item.slice(0, i).trim().toLowerCase()] ??= {})[item.slice(i + 1)] = true;
  }
  return JSON.stringify(f);
}

export function portsString(ports: ContainerSummary['Ports']): string {
  return ports
    .map((p) => (p.PublicPort ? `${p.IP && p.IP.includes(':') ? `[${p.IP}]` : p.IP ?? ''}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(', ');
}

export function psCommand(ctx: CliContext, name = 'ps'): Command {
  return new Command(name)
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-q, --quiet', 'Only display container IDs')
    .option('-n, --last <int>', 'Show n last created containers (includes all states)')
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('-s, --size', 'Display total file sizes')
    .option('--no-trunc', "Don't truncate output")
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .action(async (o: { all?: boolean; quiet?: boolean; last?: string; latest?: boolean; size?: boolean; trunc: boolean; filter: string[]; format?: string }) => {
      const c = await ctx.client();
      const limit = o.latest ? 1 : o.last !== undefined ? Number(o.last) : undefined;
      const list = await c.get<ContainerSummary[]>('/containers/json', {
        all: o.all ? 1 : undefined, limit, size: o.size ? 1 : undefined, filters: filtersJson(o.filter),
      });
      const id = (s: string) => (o.trunc ? s.slice(0, 12) : s);
      if (o.quiet) {
        for (const s of list) ctx.print(id(s.Id));
        return;
      }
      const now = Date.now();
      const rows = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES', ...(o.size ? ['SIZE'] : [])]];
      for (const s of list) {
        const cmd = o.trunc ? truncate(s.Command, 20) : s.Command;
        rows.push([
          id(s.Id), s.Image, JSON.stringify(cmd), `${humanDuration(now - s.Created * 1000)} ago`, s.Status,
          portsString(s.Ports), s.Names.map((n) => n.slice(1)).filter((n) => !n.includes('/')).join(','),
          ...(o.size ? [`${humanSize(s.SizeRw ?? 0)} (virtual ${humanSize(s.SizeRootFs ?? 0)})`] : []),
        ]);
      }
      ctx.out.write(table(rows));
    });
}
