/** `berth stats`: live or one-shot resource usage, computed like docker/cli's stats helpers. */
import { Command } from 'commander';
import type { ContainerSummary } from '../../../api/types/index.js';
import { jsonMessages } from '../../../client/json-stream.js';
import type { CliContext } from '../../context.js';
import { humanSize, table } from '../../format/simple.js';

interface Sample {
  id: string;
  name: string;
  read: string;
  cpu_stats: { cpu_usage: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage: number; online_cpus: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats: { io_service_bytes_recursive: { op: string; value: number }[] | null };
  pids_stats: { current?: number };
}

/** binary units, as docker stats prints memory (`1.5MiB`). */
function binarySize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(2)).toString()}${units[i]}`;
}

export function row(s: Sample): string[] {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage;
  const online = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const st = s.memory_stats.stats ?? {};
  const mem = Math.max(0, (s.memory_stats.usage ?? 0) - (st.total_inactive_file ?? st.inactive_file ?? 0));
  const limit = s.memory_stats.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let rd = 0;
  let wr = 0;
  for (const b of s.blkio_stats.io_service_bytes_recursive ?? []) {
    if (b.op.toLowerCase() === 'read') rd += b.value;
    if (b.op.toLowerCase() === 'write') wr += b.value;
  }
  return [
    s.id.slice(0, 12), s.name.replace(/^\//, ''), `${cpu.toFixed(2)}%`, `${binarySize(mem)} / ${binarySize(limit)}`,
    `${limit ? ((mem / limit) * 100).toFixed(2) : '0.00'}%`, `${humanSize(rx)} / ${humanSize(tx)}`, `${humanSize(rd)} / ${humanSize(wr)}`,
    String(s.pids_stats.current ?? 0),
  ];
}

const HEADER = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];

export function statsCommand(ctx: CliContext): Command {
  return new Command('stats')
    .description('Display a live stream of container(s) resource usage statistics')
    .argument('[container...]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', 'Do not truncate output')
    .action(async (refs: string[], o: { all?: boolean; stream: boolean }) => {
      const c = await ctx.client();
      const ids = refs.length ? refs : (await c.get<ContainerSummary[]>('/containers/json', o.all ? { all: 1 } : undefined)).map((s) => s.Id);
      if (!o.stream) {
        const samples = await Promise.all(ids.map((id) => c.get<Sample>(`/containers/${encodeURIComponent(id)}/stats`, { stream: 0 })));
        ctx.out.write(table([HEADER, ...samples.map(row)]));
        return;
      }
      const latest = new Map<string, string[]>();
      const draw = () => {
        if (ctx.out.isTTY) ctx.out.write('\x1b[2J\x1b[H');
        ctx.out.write(table([HEADER, ...ids.map((id) => latest.get(id) ?? [id.slice(0, 12), '--', '--', '--', '--', '--', '--', '--'])]));
      };
      await Promise.all(ids.map(async (id) => {
        const res = await c.call('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: 1 } });
        for await (const s of jsonMessages<Sample>(res)) {
          latest.set(id, row(s));
          draw();
        }
      }));
    });
}
