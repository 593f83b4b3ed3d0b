/**
 * `docker stats`: a sample in Docker's JSON shape, read from the
 * container's cgroup (v1 or v2), /proc/stat and the container's network
 * namespace (/proc/<pid>/net/dev).
 */
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CpuStats, StatsSample } from '../../api/types/index.js';

export interface StatsTarget {
  id: string;
  name: string;
  pid: number;
  running: boolean;
  cgroupsPath: string;
  cgroupVersion: 1 | 2;
}

const ZERO = '0001-01-01T00:00:00Z';
const TICK_NS = 1e7; // USER_HZ = 100

const emptyCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  system_cpu_usage: 0, online_cpus: 0, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

async function text(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

const num = (s: string | undefined): number | undefined => (s === undefined || s.trim() === '' || s.trim() === 'max' ? undefined : Number(s.trim()));

/** `key value` lines (cgroup stat files) as a map. */
export function keyValues(s: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (s ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** /proc/stat's aggregate cpu line in nanoseconds. */
export function systemCpuNs(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  return line.trim().split(/\s+/).slice(1, 9).reduce((a, b) => a + Number(b), 0) * TICK_NS;
}

/** /proc/<pid>/net/dev → Docker's per-interface counters, loopback left out. */
export function parseNetDev(s: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const line of s.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out[m[1]!] = {
      rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!,
      tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]!,
    };
  }
  return out;
}

async function cgroupV1(path: string): Promise<Pick<StatsSample, 'cpu_stats' | 'memory_stats' | 'pids_stats' | 'blkio_stats'>> {
  const cg = (ctrl: string, file: string) => text(join('/sys/fs/cgroup', ctrl, path, file));
  const [usage, percpu, cpuacct, cpuStat, memUsage, memMax, memLimit, memFail, memStat, pids, pidsMax, blkio, procStat] = await Promise.all([
    cg('cpuacct', 'cpuacct.usage'), cg('cpuacct', 'cpuacct.usage_percpu'), cg('cpuacct', 'cpuacct.stat'), cg('cpu', 'cpu.stat'),
    cg('memory', 'memory.usage_in_bytes'), cg('memory', 'memory.max_usage_in_bytes'), cg('memory', 'memory.limit_in_bytes'),
    cg('memory', 'memory.failcnt'), cg('memory', 'memory.stat'), cg('pids', 'pids.current'), cg('pids', 'pids.max'),
    cg('blkio', 'blkio.throttle.io_service_bytes'), text('/proc/stat'),
  ]);
  const acct = keyValues(cpuacct);
  const thr = keyValues(cpuStat);
  const limit = num(memLimit);
  const blk: StatsSample['blkio_stats']['io_service_bytes_recursive'] = [];
  for (const line of (blkio ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) blk.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!.toLowerCase(), value: Number(m[4]) });
  }
  const pidsLimit = num(pidsMax);
  return {
    cpu_stats: {
      cpu_usage: {
        total_usage: num(usage) ?? 0,
        percpu_usage: (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
        usage_in_kernelmode: (acct.system ?? 0) * TICK_NS,
        usage_in_usermode: (acct.user ?? 0) * TICK_NS,
      },
      system_cpu_usage: systemCpuNs(procStat ?? ''),
      online_cpus: cpus().length,
      throttling_data: { periods: thr.nr_periods ?? 0, throttled_periods: thr.nr_throttled ?? 0, throttled_time: thr.throttled_time ?? 0 },
    },
    memory_stats: {
      usage: num(memUsage) ?? 0, max_usage: num(memMax) ?? 0, stats: keyValues(memStat),
      limit: Math.min(limit ?? totalmem(), totalmem()), failcnt: num(memFail) ?? 0,
    },
    pids_stats: { current: num(pids) ?? 0, ...(pidsLimit !== undefined ? { limit: pidsLimit } : {}) },
    blkio_stats: { io_service_bytes_recursive: blk },
  };
}

async function cgroupV2(path: string): Promise<Pick<StatsSample, 'cpu_stats' | 'memory_stats' | 'pids_stats' | 'blkio_stats'>> {
  const cg = (file: string) => text(join('/sys/fs/cgroup', path, file));
  const [cpuStat, memCur, memMax, memStat, pids, pidsMax, io, procStat] = await Promise.all([
    cg('cpu.stat'), cg('memory.current'), cg('memory.max'), cg('memory.stat'), cg('pids.current'), cg('pids.max'), cg('io.stat'), text('/proc/stat'),
  ]);
  const c = keyValues(cpuStat);
  const blk: StatsSample['blkio_stats']['io_service_bytes_recursive'] = [];
  for (const line of (io ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(m[3]!.split(' ').map((p) => p.split('=')));
    blk.push({ major: Number(m[1]), minor: Number(m[2]), op: 'read', value: Number(kv.rbytes ?? 0) });
    blk.push({ major: Number(m[1]), minor: Number(m[2]), op: 'write', value: Number(kv.wbytes ?? 0) });
  }
  const pidsLimit = num(pidsMax);
  return {
    cpu_stats: {
      cpu_usage: { total_usage: (c.usage_usec ?? 0) * 1000, usage_in_kernelmode: (c.system_usec ?? 0) * 1000, usage_in_usermode: (c.user_usec ?? 0) * 1000 },
      system_cpu_usage: systemCpuNs(procStat ?? ''),
      online_cpus: cpus().length,
      throttling_data: { periods: c.nr_periods ?? 0, throttled_periods: c.nr_throttled ?? 0, throttled_time: (c.throttled_usec ?? 0) * 1000 },
    },
    memory_stats: { usage: num(memCur) ?? 0, stats: keyValues(memStat), limit: Math.min(num(memMax) ?? totalmem(), totalmem()) },
    pids_stats: { current: num(pids) ?? 0, ...(pidsLimit !== undefined ? { limit: pidsLimit } : {}) },
    blkio_stats: { io_service_bytes_recursive: blk },
  };
}

export async function containerStats(t: StatsTarget, previous?: StatsSample): Promise<StatsSample> {
  const base: StatsSample = {
    read: ZERO, preread: previous?.read ?? ZERO, pids_stats: {}, blkio_stats: { io_service_bytes_recursive: null }, num_procs: 0,
    storage_stats: {}, cpu_stats: emptyCpu(), precpu_stats: previous?.cpu_stats ?? emptyCpu(), memory_stats: {},
    name: `/${t.name}`, id: t.id,
  };
  if (!t.running) return base;
  const cg = t.cgroupVersion === 2 ? await cgroupV2(t.cgroupsPath) : await cgroupV1(t.cgroupsPath);
  const net = await text(`/proc/${t.pid}/net/dev`);
  const networks = net ? parseNetDev(net) : {};
  return { ...base, ...cg, read: new Date().toISOString(), ...(Object.keys(networks).length ? { networks } : {}) };
}
