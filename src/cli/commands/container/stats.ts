/** `berth stats`: live or one-shot resource usage, computed like docker/cli's stats helpers. */
import { Command } from 'commander';
import type { ContainerSummary } from '../../../api/types/index.js';
import { jsonMessages } from '../../../client/json-stream.js';
import type { CliContext } from '../../context.js';
import { ListFormatter, truncateID } from '../../format/formatter.js';
import { bytesSize, humanSizeWithPrecision } from '../../format/units.js';

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

/** A `docker stats` row, computed like docker/cli's stats helpers (CPU % from the precpu delta). */
export function statsRow(s: Sample): object {
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
  const name = s.name.replace(/^\//, '');
  return {
    Container: name, ID: truncateID(s.id), Name: name, CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`, MemPerc: `${limit ? ((mem / limit) * 100).toFixed(2) : '0.00'}%`,
    NetIO: `${humanSizeWithPrecision(rx, 3)} / ${humanSizeWithPrecision(tx, 3)}`, BlockIO: `${humanSizeWithPrecision(rd, 3)} / ${humanSizeWithPrecision(wr, 3)}`, PIDs: String(s.pids_stats.current ?? 0),
  };
}

const HEADERS = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export function statsCommand(ctx: CliContext): Command {
  return new Command('stats')
    .description('Display a live stream of container(s) resource usage statistics')
    .argument('[container...]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', 'Do not truncate output')
    .option('--format <string>', 'Format output using a custom template')
    .action(async (refs: string[], o: { all?: boolean; stream: boolean; format?: string }) => {
      const f = new ListFormatter({ format: o.format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS, typeName: '*formatter.statsContext' });
      const c = await ctx.client();
      const ids = refs.length ? refs : (await c.get<ContainerSummary[]>('/containers/json', o.all ? { all: 1 } : undefined)).map((s) => s.Id);
      if (!o.stream) {
        const samples = await Promise.all(ids.map((id) => c.get<Sample>(`/containers/${encodeURIComponent(id)}/stats`, { stream: 0 })));
        ctx.out.write(f.render(samples.map(statsRow)));
        return;
      }
      const latest = new Map<string, object>();
      const draw = () => {
        if (ctx.out.isTTY) ctx.out.write('\x1b[2J\x1b[H');
        ctx.out.write(f.render(ids.map((id) => latest.get(id) ?? { ID: truncateID(id), Name: '--', Container: '--', CPUPerc: '--', MemUsage: '-- / --', MemPerc: '--', NetIO: '--', BlockIO: '--', PIDs: '--' })));
      };
      await Promise.all(ids.map(async (id) => {
        const res = await c.call('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: 1 } });
        for await (const s of jsonMessages<Sample>(res)) {
          latest.set(id, statsRow(s));
          draw();
        }
      }));
    });
}
