/**
 * Live resource charts of a running container from the streaming
 * `/containers/{id}/stats`: CPU (as `docker stats` computes it), memory
 * (usage less the inactive page cache, as the docker CLI shows it), network
 * and block I/O as rates per second.
 */
import { call, ndjson } from '../api.js';
import { formatBytes, h } from '../dom.js';
import { lineChart } from './chart.js';

interface StatsSample {
  read: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
}

export function cpuPercent(s: StatsSample): number {
  const cpu = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const system = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  return system > 0 && cpu > 0 ? (cpu / system) * cpus * 100 : 0;
}

function memoryUsed(s: StatsSample): number {
  const m = s.memory_stats ?? {};
  const cache = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
  const usage = m.usage ?? 0;
  return usage > cache ? usage - cache : usage;
}

function totals(s: StatsSample): { rx: number; tx: number; read: number; write: number } {
  let rx = 0, tx = 0, read = 0, write = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (e.op.toLowerCase() === 'read') read += e.value;
    if (e.op.toLowerCase() === 'write') write += e.value;
  }
  return { rx, tx, read, write };
}

const rate = (n: number) => `${formatBytes(Math.max(0, n))}/s`;

export function statsView(id: string): { el: HTMLElement; dispose: () => void } {
  const cpu = lineChart('stats-cpu', 'CPU', (v) => `${v.toFixed(1)} %`, ['cpu']);
  const mem = lineChart('stats-memory', 'Memory', (v) => formatBytes(v), ['used']);
  const net = lineChart('stats-network', 'Network', rate, ['in', 'out']);
  const blk = lineChart('stats-blockio', 'Block I/O', rate, ['read', 'write']);
  const status = h('p', { class: 'count', role: 'status' });
  const ac = new AbortController();
  const run = async () => {
    let prev: { at: number; t: ReturnType<typeof totals> } | undefined;
    try {
      const res = await call('GET', `/containers/${encodeURIComponent(id)}/stats?stream=1`, undefined, ac.signal);
      for await (const s of ndjson<StatsSample>(res)) {
        const at = Date.parse(s.read) || Date.now();
        const t = totals(s);
        cpu.push([cpuPercent(s)]);
        const limit = s.memory_stats?.limit;
        mem.push([memoryUsed(s)]);
        status.textContent = limit ? `memory limit ${formatBytes(limit)}` : '';
        const dt = prev ? Math.max(0.001, (at - prev.at) / 1000) : 0;
        net.push(prev ? [(t.rx - prev.t.rx) / dt, (t.tx - prev.t.tx) / dt] : [0, 0]);
        blk.push(prev ? [(t.read - prev.t.read) / dt, (t.write - prev.t.write) / dt] : [0, 0]);
        prev = { at, t };
      }
      status.textContent = 'The stats stream ended (the container is not running).';
    } catch (err) {
      if (!ac.signal.aborted) status.textContent = `stats: ${(err as Error).message}`;
    }
  };
  void run();
  const el = h('section', { 'aria-labelledby': 'stats-title', class: 'panel', id: 'stats' },
    h('h2', { id: 'stats-title' }, 'Stats'),
    h('div', { class: 'charts' }, cpu.el, mem.el, net.el, blk.el),
    status);
  return { el, dispose: () => ac.abort() };
}
