/**
 * Containers: every container with its state, health and ports, kept live
 * by the events stream (a container's row is read again when an event
 * names it, once per frame for a burst), the lifecycle buttons, and a form
 * to run a new one.
 */
import { api, ApiError, query } from '../api.js';
import { h, notify, type Child, type Page } from '../dom.js';
import { subscribe } from '../events.js';
import { runForm } from './run-form.js';

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  State: string;
  Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

export const nameOf = (c: ContainerSummary) => (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');

/** A button that runs an action against one container, asking first when it destroys something. */
function action(c: ContainerSummary, label: string, run: () => Promise<unknown>, confirmText?: string): HTMLButtonElement {
  const name = nameOf(c);
  const b = h('button', {
    type: 'button',
    class: confirmText ? 'danger' : '',
    'aria-label': `${label} ${name}`,
    onclick: async () => {
      if (confirmText && !window.confirm(confirmText)) return;
      b.disabled = true;
      try {
        await run();
        notify('');
      } catch (err) {
        notify(`${label} ${name}: ${(err as Error).message}`);
      } finally {
        b.disabled = false;
      }
    },
  }, label);
  return b;
}

function portLinks(c: ContainerSummary): Child[] {
  const seen = new Set<string>();
  return c.Ports.filter((p) => p.PublicPort).flatMap((p) => {
    const text = `${p.PublicPort}→${p.PrivatePort}/${p.Type}`;
    if (seen.has(text)) return [];
    seen.add(text);
    const host = !p.IP || p.IP === '0.0.0.0' || p.IP === '::' ? location.hostname : p.IP;
    return [p.Type === 'tcp' ? h('a', { href: `http://${host.includes(':') ? `[${host}]` : host}:${p.PublicPort}/`, target: '_blank', rel: 'noopener' }, text) : h('span', {}, text), ' '];
  });
}

function health(status: string): string {
  return /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1] ?? '';
}

function row(c: ContainerSummary): HTMLTableRowElement {
  const id = encodeURIComponent(c.Id);
  const running = c.State === 'running' || c.State === 'restarting';
  const paused = c.State === 'paused';
  return h('tr', { 'data-id': c.Id, 'data-name': nameOf(c), 'data-state': c.State },
    h('th', { scope: 'row' }, h('a', { href: `#/containers/${id}` }, nameOf(c))),
    h('td', {}, c.Image),
    h('td', {}, h('span', { class: `state state-${c.State}` }, c.State)),
    h('td', {}, health(c.Status)),
    h('td', {}, c.Status),
    h('td', {}, portLinks(c)),
    h('td', { class: 'actions' },
      !running && !paused ? action(c, 'Start', () => api('POST', `/containers/${id}/start`)) : null,
      running ? action(c, 'Stop', () => api('POST', `/containers/${id}/stop`)) : null,
      action(c, 'Restart', () => api('POST', `/containers/${id}/restart`)),
      running ? action(c, 'Kill', () => api('POST', `/containers/${id}/kill`), `Kill ${nameOf(c)}? Its processes get SIGKILL.`) : null,
      running ? action(c, 'Pause', () => api('POST', `/containers/${id}/pause`)) : null,
      paused ? action(c, 'Unpause', () => api('POST', `/containers/${id}/unpause`)) : null,
      action(c, 'Remove', () => api('DELETE', `/containers/${id}${query({ force: running || paused })}`), `Remove ${nameOf(c)}${running ? ' (it is running: it will be killed)' : ''}?`),
    ),
  );
}

/** Past this many containers named by events in one frame, one read of the whole list is cheaper (and keeps the URL short). */
const MAX_IDS_PER_READ = 50;
const byName = new Intl.Collator(undefined, { numeric: true });

export function containersPage(): Page {
  const rows = new Map<string, { c: ContainerSummary; key: string; el: HTMLTableRowElement }>();
  const tbody = h('tbody');
  const count = h('p', { 'aria-live': 'polite', class: 'count' });

  /**
   * Applies what one read found: only rows whose summary changed are rebuilt, and the rows are
   * moved only when the order by name changed, so a burst of events over 500 rows costs a few
   * row updates per frame instead of rebuilding the table per event.
   */
  const apply = (found: ContainerSummary[], asked: string[] | 'all') => {
    const seen = new Set<string>();
    let moved = false;
    for (const c of found) {
      seen.add(c.Id);
      const key = JSON.stringify(c);
      const old = rows.get(c.Id);
      if (old?.key === key) continue;
      const el = row(c);
      if (old) {
        old.el.replaceWith(el);
        moved ||= nameOf(old.c) !== nameOf(c);
      } else {
        tbody.append(el);
        moved = true;
      }
      rows.set(c.Id, { c, key, el });
    }
    for (const id of asked === 'all' ? [...rows.keys()] : asked) {
      if (seen.has(id)) continue;
      rows.get(id)?.el.remove();
      rows.delete(id);
    }
    if (moved) {
      const sorted = [...rows.values()].sort((a, b) => byName.compare(nameOf(a.c), nameOf(b.c)));
      if (sorted.some((r, i) => tbody.children[i] !== r.el)) tbody.append(...sorted.map((r) => r.el));
    }
    let running = 0;
    for (const r of rows.values()) if (r.c.State === 'running') running++;
    count.textContent = `${rows.size} containers, ${running} running`;
  };

  // containers named by events are read again, once per animation frame for all of that frame's
  // events and one read at a time: a burst of hundreds of events makes a few reads, not hundreds
  let pending = new Set<string>();
  let everything = false;
  let frame = 0;
  let reading = false;
  const read = async () => {
    frame = 0;
    reading = true;
    const ids = [...pending];
    const all = everything || ids.length > MAX_IDS_PER_READ;
    pending = new Set();
    everything = false;
    try {
      const q = all ? query({ all: true }) : query({ all: true, filters: JSON.stringify({ id: ids }) });
      apply(await api<ContainerSummary[]>('GET', `/containers/json${q}`), all ? 'all' : ids);
    } catch (err) {
      notify((err as ApiError).message);
    } finally {
      reading = false;
      if (pending.size || everything) schedule();
    }
  };
  const schedule = () => {
    if (!frame && !reading) frame = requestAnimationFrame(() => void read());
  };
  const sub = subscribe((e) => {
    if (e.Type !== 'container' || e.Action.startsWith('exec_')) return;
    pending.add(e.Actor.ID);
    schedule();
  });
  void sub.ready.then(() => {
    everything = true;
    schedule();
  });
  const el = h('section', { 'aria-labelledby': 'containers-title' },
    h('h1', { id: 'containers-title' }, 'Containers'),
    count,
    h('table', { class: 'list', id: 'containers' },
      h('caption', { class: 'visually-hidden' }, 'Containers on this engine'),
      h('thead', {}, h('tr', {}, ...['Name', 'Image', 'State', 'Health', 'Status', 'Ports', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody,
    ),
    runForm(),
  );
  return { el, dispose: () => { cancelAnimationFrame(frame); sub.unsubscribe(); } };
}
