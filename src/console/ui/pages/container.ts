/** One container: its main facts, the full inspect document, live logs, stats, processes, files and a terminal. */
import { api } from '../api.js';
import { h, replace, notify, type Page } from '../dom.js';
import { subscribe } from '../events.js';
import { logsView } from './logs-view.js';
import { filesView } from './files-view.js';
import { statsView } from './stats-view.js';
import { tabs } from './tabs.js';
import { terminalView } from './terminal-view.js';
import { topView } from './top-view.js';

interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Config: { Image: string; Cmd?: string[]; Entrypoint?: string[]; Env?: string[]; Tty: boolean; WorkingDir?: string; User?: string };
  State: { Status: string; ExitCode: number; StartedAt: string; FinishedAt: string; Health?: { Status: string } };
  NetworkSettings: { Networks?: Record<string, { IPAddress: string }>; Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> };
  Mounts?: { Type: string; Source: string; Destination: string }[];
  RestartCount: number;
}

function facts(c: ContainerInspect): HTMLElement {
  const pairs: [string, string][] = [
    ['ID', c.Id],
    ['Image', c.Config.Image],
    ['Command', [...(c.Config.Entrypoint ?? []), ...(c.Config.Cmd ?? [])].join(' ')],
    ['State', `${c.State.Status}${c.State.Status === 'exited' ? ` (${c.State.ExitCode})` : ''}`],
    ['Health', c.State.Health?.Status ?? ''],
    ['Created', c.Created],
    ['Started', c.State.StartedAt],
    ['Restarts', String(c.RestartCount)],
    ['Networks', Object.entries(c.NetworkSettings.Networks ?? {}).map(([n, v]) => `${n} ${v.IPAddress}`).join(', ')],
    ['Ports', Object.entries(c.NetworkSettings.Ports ?? {}).map(([p, b]) => (b?.length ? b.map((x) => `${x.HostIp || '0.0.0.0'}:${x.HostPort}→${p}`).join(', ') : p)).join(', ')],
    ['Mounts', (c.Mounts ?? []).map((m) => `${m.Source || m.Type} → ${m.Destination}`).join(', ')],
    ['Environment', (c.Config.Env ?? []).join('  ')],
  ];
  return h('dl', { class: 'facts', id: 'container-facts' }, pairs.filter(([, v]) => v).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function containerPage(id: string): Page {
  const el = h('section', { 'aria-labelledby': 'container-title' }, h('h1', { id: 'container-title' }, 'Container'));
  const details = h('div');
  const disposers: (() => void)[] = [];
  const load = async (first: boolean) => {
    try {
      const c = await api<ContainerInspect>('GET', `/containers/${encodeURIComponent(id)}/json`);
      el.querySelector('h1')!.textContent = c.Name.replace(/^\//, '');
      replace(details, facts(c), h('details', {}, h('summary', {}, 'Inspect (JSON)'), h('pre', { class: 'json' }, JSON.stringify(c, null, 2))));
      if (first) {
        const logs = logsView({ path: `/containers/${encodeURIComponent(c.Id)}/logs`, tty: c.Config.Tty });
        const term = terminalView(c.Id);
        let stats: ReturnType<typeof statsView> | undefined;
        const statsPanel = h('div');
        const top = topView(c.Id);
        const files = filesView(c.Id);
        const more = tabs('Container resources', [
          { id: 'stats', label: 'Stats', panel: statsPanel, shown: () => { stats = statsView(c.Id); statsPanel.append(stats.el); } },
          { id: 'processes', label: 'Processes', panel: top.el, shown: () => void top.refresh() },
          { id: 'files', label: 'Files', panel: files.el, shown: () => void files.open(c.Config.WorkingDir || '/') },
        ]);
        el.append(logs.el, more, term.el);
        disposers.push(logs.dispose, term.dispose, () => stats?.dispose());
      }
    } catch (err) {
      notify((err as Error).message);
    }
  };
  el.append(h('p', {}, h('a', { href: '#/containers' }, '← All containers')), details);
  void load(true);
  const sub = subscribe((e) => {
    if (e.Type === 'container' && (e.Actor.ID === id || e.Actor.Attributes.name === id) && !e.Action.startsWith('exec_')) void load(false);
  });
  return { el, dispose: () => [...disposers, sub.unsubscribe].forEach((d) => d()) };
}
