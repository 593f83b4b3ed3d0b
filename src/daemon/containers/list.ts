/** `docker ps` selection: all/limit and filters, newest first (pure). */
import { Filters } from '../../api/filters.js';
import type { ContainerRecord } from './record.js';

export interface ListOptions {
  all: boolean;
  limit?: number;
  filters: Filters;
  /** Is container `rec`'s image `ref` or built on it? (the `ancestor` filter) */
  isAncestor?: (rec: ContainerRecord, ref: string) => boolean;
}

const FILTERS = new Set(['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'volume', 'network', 'health', 'is-task', 'publish', 'expose']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);
const HEALTHS = ['none', 'starting', 'healthy', 'unhealthy'];

export function selectContainers(records: ContainerRecord[], o: ListOptions): ContainerRecord[] {
  const filters = o.filters.accept(FILTERS);
  for (const s of filters.get('status')) {
    if (!STATUSES.has(s)) throw Filters.invalid(`invalid filter 'status=${s}'`);
  }
  for (const h of filters.get('health')) {
    if (!HEALTHS.includes(h)) throw Filters.invalid(`invalid filter 'health=${h}': invalid value for health (${h}): must be one of ${HEALTHS.join(', ')}`);
  }
  const f = (k: string) => filters.get(k);
  const sorted = [...records].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  const byRef = (ref: string) => sorted.find((r) => r.id.startsWith(ref) || r.name === ref.replace(/^\//, ''));
  const before = f('before').map(byRef).filter(Boolean) as ContainerRecord[];
  const since = f('since').map(byRef).filter(Boolean) as ContainerRecord[];
  // status, exited, before and since look at stopped containers too
  const all = o.all || (o.limit ?? 0) > 0 || f('status').length > 0 || f('exited').length > 0 || before.length > 0 || since.length > 0;
  const out: ContainerRecord[] = [];
  for (const r of sorted) {
    if (r.cri) continue; // the CRI's sandboxes and pods are listed through the CRI only
    if (!all && !r.state.Running) continue;
    if (!filters.prefix('id', r.id)) continue;
    if (!filters.match('name', r.name)) continue;
    if (!filters.labels(r.config.Labels)) continue;
    if (f('status').length && !f('status').includes(r.state.Status)) continue;
    if (f('exited').length && !(r.state.Status === 'exited' && f('exited').includes(String(r.state.ExitCode)))) continue;
    if (f('health').length && !f('health').includes(r.state.Health?.Status ?? 'none')) continue;
    if (f('ancestor').length && !f('ancestor').some((v) => o.isAncestor?.(r, v))) continue;
    if (before.length && !before.every((b) => r.created < b.created)) continue;
    if (since.length && !since.every((s) => r.created > s.created)) continue;
    if (f('volume').length && !f('volume').some((v) => r.mounts.some((m) => m.Name === v || m.Destination === v || m.Source === v))) continue;
    if (f('network').length && !f('network').some((n) => Object.entries(r.networkSettings.Networks).some(([name, ep]) => name === n || (!!ep.NetworkID && ep.NetworkID.startsWith(n))))) continue;
    if (f('publish').length && !f('publish').some((p) => portMatch(publishedPorts(r), p))) continue;
    if (f('expose').length && !f('expose').some((p) => portMatch(Object.keys(r.config.ExposedPorts ?? {}), p))) continue;
    out.push(r);
    if (o.limit !== undefined && o.limit > 0 && out.length >= o.limit) break;
  }
  return out;
}

/** Host ports a container publishes, as `port/proto`. */
function publishedPorts(r: ContainerRecord): string[] {
  const out: string[] = [];
  for (const [key, bindings] of Object.entries(r.networkSettings.Ports ?? {})) {
    const proto = key.split('/')[1] ?? 'tcp';
    for (const b of bindings ?? []) out.push(`${b.HostPort}/${proto}`);
  }
  return out;
}

/** `80`, `80/udp` or a range `8000-8080[/tcp]` against `port/proto` keys. */
function portMatch(keys: string[], filter: string): boolean {
  const [range = '', proto = 'tcp'] = filter.split('/');
  const [lo, hi = lo] = range.split('-').map(Number);
  if (lo === undefined || Number.isNaN(lo) || Number.isNaN(hi)) throw Filters.invalid(`invalid filter '${filter}'`);
  return keys.some((k) => {
    const [p = '', kp = 'tcp'] = k.split('/');
    return kp === proto && Number(p) >= lo && Number(p) <= hi!;
  });
}
