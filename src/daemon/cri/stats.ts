/**
 * The CRI's stats: each container's CPU time, memory working set and
 * writable layer, read from the cgroup samples `docker stats` takes and
 * the container's upper directory; a pod's are its containers' and its
 * infra container's summed (berth gives a pod no cgroup of its own yet),
 * with the network counters of its namespace.
 */
import type { StatsSample } from '../../api/types/index.js';
import type { ContainerRecord } from '../containers/record.js';
import { annotationsOf, kindOf, labelsOf, matchesSelector, metadataOf, sandboxIdOf, type StringMap } from './records.js';
import type { CriRecords } from './pod-sandboxes.js';
import type { PodContainers } from './pod-containers.js';
import type { PodSandboxes } from './pod-sandboxes.js';

export interface CriStatsDeps {
  records: CriRecords;
  containers: Pick<PodContainers, 'get'>;
  sandboxes: Pick<PodSandboxes, 'get'>;
  /** One cgroup sample of a container (zeros when it is not running). */
  sample(id: string): Promise<StatsSample>;
  /** The container's writable layer: its directory, bytes and inodes. */
  writableLayer(id: string): Promise<{ mountpoint: string; bytes: number; inodes: number }>;
}

const u64 = (n: number) => ({ value: String(Math.max(0, Math.round(n))) });

/**
 * The working set as the kubelet (cAdvisor) counts it: usage less the
 * inactive page cache, which the kernel can take back at once.
 */
export function workingSet(s: StatsSample): number {
  const usage = s.memory_stats.usage ?? 0;
  const st = s.memory_stats.stats ?? {};
  const inactive = st.total_inactive_file ?? st.inactive_file ?? 0;
  return inactive < usage ? usage - inactive : 0;
}

function cpuOf(s: StatsSample, ts: string): object {
  return { timestamp: ts, usage_core_nano_seconds: u64(s.cpu_stats.cpu_usage.total_usage) };
}

function memoryOf(s: StatsSample, ts: string): object {
  const st = s.memory_stats.stats ?? {};
  const limit = s.memory_stats.limit ?? 0;
  const ws = workingSet(s);
  return {
    timestamp: ts, working_set_bytes: u64(ws), usage_bytes: u64(s.memory_stats.usage ?? 0),
    available_bytes: u64(limit > ws ? limit - ws : 0), rss_bytes: u64(st.total_rss ?? st.anon ?? st.rss ?? 0),
    page_faults: u64(st.total_pgfault ?? st.pgfault ?? 0), major_page_faults: u64(st.total_pgmajfault ?? st.pgmajfault ?? 0),
  };
}

const now = () => String(BigInt(Date.now()) * 1_000_000n);

type Filter = { id?: string; pod_sandbox_id?: string; label_selector?: StringMap } | null | undefined;

export class CriStats {
  constructor(private readonly d: CriStatsDeps) {}

  async container(id: string): Promise<object> {
    return this.containerStats(this.d.containers.get(id));
  }

  async listContainers(filter: Filter): Promise<object[]> {
    const recs = this.d.records.list()
      .filter((r) => kindOf(r) === 'container')
      .filter((r) => !filter?.id || r.id.startsWith(filter.id))
      .filter((r) => !filter?.pod_sandbox_id || sandboxIdOf(r).startsWith(filter.pod_sandbox_id))
      .filter((r) => matchesSelector(filter?.label_selector, labelsOf(r)));
    return Promise.all(recs.map((r) => this.containerStats(r)));
  }

  async sandbox(id: string): Promise<object> {
    return this.sandboxStats(this.d.sandboxes.get(id));
  }

  async listSandboxes(filter: Filter): Promise<object[]> {
    const recs = this.d.records.list()
      .filter((r) => kindOf(r) === 'sandbox')
      .filter((r) => !filter?.id || r.id.startsWith(filter.id))
      .filter((r) => matchesSelector(filter?.label_selector, labelsOf(r)));
    return Promise.all(recs.map((r) => this.sandboxStats(r)));
  }

  private async containerStats(rec: ContainerRecord, sample?: StatsSample): Promise<object> {
    const ts = now();
    const [s, layer] = await Promise.all([sample ?? this.d.sample(rec.id), this.d.writableLayer(rec.id)]);
    return {
      attributes: { id: rec.id, metadata: metadataOf(rec), labels: labelsOf(rec), annotations: annotationsOf(rec) },
      cpu: cpuOf(s, ts), memory: memoryOf(s, ts),
      writable_layer: { timestamp: ts, fs_id: { mountpoint: layer.mountpoint }, used_bytes: u64(layer.bytes), inodes_used: u64(layer.inodes) },
    };
  }

  private async sandboxStats(rec: ContainerRecord): Promise<object> {
    const ts = now();
    const members = this.d.records.list().filter((r) => kindOf(r) === 'container' && sandboxIdOf(r) === rec.id);
    const [infra, ...samples] = await Promise.all([rec, ...members].map((r) => this.d.sample(r.id)));
    const all = [infra!, ...samples];
    const sum = (f: (s: StatsSample) => number) => all.reduce((a, s) => a + f(s), 0);
    const interfaces = Object.entries(infra!.networks ?? {}).map(([name, n]) => ({
      name, rx_bytes: u64(n.rx_bytes ?? 0), rx_errors: u64(n.rx_errors ?? 0), tx_bytes: u64(n.tx_bytes ?? 0), tx_errors: u64(n.tx_errors ?? 0),
    }));
    // eth0 is the CNI's interface in the pod, as the kubelet's default
    const def = interfaces.find((i) => i.name === 'eth0') ?? interfaces[0];
    const st = (f: (s: Record<string, number>) => number) => sum((s) => f(s.memory_stats.stats ?? {}));
    const usage = sum((s) => s.memory_stats.usage ?? 0);
    const ws = sum(workingSet);
    return {
      attributes: { id: rec.id, metadata: metadataOf(rec), labels: labelsOf(rec), annotations: annotationsOf(rec) },
      linux: {
        cpu: { timestamp: ts, usage_core_nano_seconds: u64(sum((s) => s.cpu_stats.cpu_usage.total_usage)) },
        memory: {
          timestamp: ts, working_set_bytes: u64(ws), usage_bytes: u64(usage),
          rss_bytes: u64(st((m) => m.total_rss ?? m.anon ?? m.rss ?? 0)),
          page_faults: u64(st((m) => m.total_pgfault ?? m.pgfault ?? 0)), major_page_faults: u64(st((m) => m.total_pgmajfault ?? m.pgmajfault ?? 0)),
        },
        network: { timestamp: ts, ...(def ? { default_interface: def } : {}), interfaces: interfaces.filter((i) => i !== def) },
        process: { timestamp: ts, process_count: u64(sum((s) => s.pids_stats.current ?? 0)) },
        containers: await Promise.all(members.map((m, i) => this.containerStats(m, samples[i]))),
      },
    };
  }
}
