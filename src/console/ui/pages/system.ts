/**
 * System: `docker system df` as a table with a bar per kind (size, and the
 * part that could be reclaimed), and the engine's version and info.
 */
import { api } from '../api.js';
import { formatBytes, h, notify, replace, type Page } from '../dom.js';

interface DiskUsage {
  LayersSize?: number;
  Images?: { Size: number; SharedSize: number; Containers: number }[] | null;
  Containers?: { SizeRw?: number; State: string }[] | null;
  Volumes?: { UsageData?: { Size: number; RefCount: number } }[] | null;
  BuildCache?: { Size: number; InUse: boolean; Shared: boolean }[] | null;
}

interface Row {
  kind: string;
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** The four rows of `docker system df`, computed as the docker CLI does. */
export function dfRows(df: DiskUsage): Row[] {
  const images = df.Images ?? [];
  const containers = df.Containers ?? [];
  const volumes = df.Volumes ?? [];
  const cache = df.BuildCache ?? [];
  const imagesActive = images.filter((i) => i.Containers > 0);
  const imagesSize = df.LayersSize ?? images.reduce((n, i) => n + i.Size, 0);
  const activeImagesSize = imagesActive.reduce((n, i) => n + i.Size - Math.max(0, i.SharedSize), 0);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return [
    { kind: 'Images', total: images.length, active: imagesActive.length, size: imagesSize, reclaimable: Math.max(0, imagesSize - activeImagesSize) },
    { kind: 'Containers', total: containers.length, active: containers.filter((c) => c.State === 'running').length, size: sum(containers.map((c) => c.SizeRw ?? 0)), reclaimable: sum(containers.filter((c) => c.State !== 'running').map((c) => c.SizeRw ?? 0)) },
    { kind: 'Local Volumes', total: volumes.length, active: volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, size: sum(volumes.map((v) => Math.max(0, v.UsageData?.Size ?? 0))), reclaimable: sum(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).map((v) => Math.max(0, v.UsageData?.Size ?? 0))) },
    { kind: 'Build Cache', total: cache.length, active: cache.filter((c) => c.InUse).length, size: sum(cache.map((c) => c.Size)), reclaimable: sum(cache.filter((c) => !c.InUse && !c.Shared).map((c) => c.Size)) },
  ];
}

export function systemPage(): Page {
  const tbody = h('tbody');
  const facts = h('dl', { class: 'facts', id: 'engine-facts' });
  const load = async () => {
    try {
      const [df, version, info] = await Promise.all([
        api<DiskUsage>('GET', '/system/df'),
        api<Record<string, string>>('GET', '/version'),
        api<Record<string, unknown>>('GET', '/info'),
      ]);
      const rows = dfRows(df);
      const largest = Math.max(1, ...rows.map((r) => r.size));
      replace(tbody, rows.map((r) => h('tr', {},
        h('th', { scope: 'row' }, r.kind),
        h('td', { class: 'num' }, r.total),
        h('td', { class: 'num' }, r.active),
        h('td', { class: 'num' }, formatBytes(r.size)),
        h('td', { class: 'num' }, formatBytes(r.reclaimable)),
        h('td', { 'aria-hidden': 'true' }, h('div', { class: 'bar' },
          h('div', { class: 'bar-used', style: `width:${(100 * (r.size - r.reclaimable)) / largest}%` }),
          h('div', { class: 'bar-free', style: `width:${(100 * r.reclaimable) / largest}%` }))),
      )));
      const pairs: [string, unknown][] = [
        ['Server version', version.Version], ['API version', version.ApiVersion], ['OS/Arch', `${version.Os}/${version.Arch}`],
        ['Kernel', info.KernelVersion], ['Storage driver', info.Driver], ['Cgroup driver', info.CgroupDriver],
        ['Containers', `${info.Containers} (${info.ContainersRunning} running)`], ['Images', info.Images],
        ['Root dir', info.DockerRootDir], ['Swarm', (info.Swarm as { LocalNodeState?: string } | undefined)?.LocalNodeState],
      ];
      replace(facts, pairs.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
    } catch (err) {
      notify((err as Error).message);
    }
  };
  void load();
  const el = h('section', { 'aria-labelledby': 'system-title' },
    h('h1', { id: 'system-title' }, 'System'),
    h('h2', {}, 'Disk usage'),
    h('table', { class: 'list', id: 'system-df' },
      h('thead', {}, h('tr', {}, ['Type', 'Total', 'Active', 'Size', 'Reclaimable', 'Used / reclaimable'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody),
    h('p', {}, h('button', { type: 'button', onclick: () => void load() }, 'Refresh')),
    h('h2', {}, 'Engine'),
    facts);
  return { el, dispose: () => {} };
}
