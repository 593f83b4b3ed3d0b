import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { ContainerSummary } from '../../../api/types/index.js';
import { collect, type CliContext } from '../../context.js';
import { ellipsis, ListFormatter, truncateID } from '../../format/formatter.js';
import { humanDuration, humanSizeWithPrecision } from '../../../lib/units.js';

/** docker's DisplayablePorts: `0.0.0.0:8080->80/tcp, 443/tcp`. */
export function portsString(ports: ContainerSummary['Ports']): string {
  return ports
    .map((p) => (p.PublicPort ? `${p.IP && p.IP.includes(':') ? `[${p.IP}]` : p.IP ?? ''}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(', ');
}

export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

/** A `docker ps` row: docker's ContainerContext fields and methods. */
export function psRow(s: ContainerSummary, trunc: boolean, now: number): object {
  const labels = s.Labels ?? {};
  return {
    ID: trunc ? truncateID(s.Id) : s.Id,
    Image: trunc && s.Image.startsWith('sha256:') ? truncateID(s.Image) : s.Image,
    Command: JSON.stringify(trunc ? ellipsis(s.Command, 20) : s.Command),
    CreatedAt: new Date(s.Created * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    RunningFor: `${humanDuration(now - s.Created * 1000)} ago`,
    Ports: portsString(s.Ports),
    State: s.State,
    Status: s.Status,
    Size: () => (s.SizeRw === undefined ? '0B' : `${humanSizeWithPrecision(s.SizeRw, 3)} (virtual ${humanSizeWithPrecision(s.SizeRootFs ?? 0, 3)})`),
    Names: s.Names.map((n) => n.slice(1)).filter((n) => !n.includes('/')).join(','),
    Labels: Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(','),
    Label: (k: string) => labels[k] ?? '',
    Mounts: s.Mounts.map((m) => (m.Name && trunc ? ellipsis(m.Name, 15) : m.Name || m.Source)).join(','),
    LocalVolumes: String(s.Mounts.filter((m) => m.Type === 'volume' && m.Driver === 'local').length),
    Networks: Object.keys(s.NetworkSettings?.Networks ?? {}).sort().join(','),
  };
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
      const defaultFormat = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${o.size ? '\t{{.Size}}' : ''}`;
      const f = new ListFormatter({
        format: o.format, defaultFormat, quiet: !!o.quiet, quietOverridesFormat: true, headers: PS_HEADERS, typeName: '*formatter.ContainerContext',
      });
      const c = await ctx.client();
      const limit = o.latest ? 1 : o.last !== undefined ? Number(o.last) : undefined;
      const list = await c.get<ContainerSummary[]>('/containers/json', {
        all: o.all ? 1 : undefined, limit, size: o.size || f.usesField('Size') ? 1 : undefined, filters: Filters.fromFlags(o.filter).toQuery(),
      });
      const now = Date.now();
      ctx.out.write(f.render(list.map((s) => psRow(s, o.trunc, now))));
    });
}
