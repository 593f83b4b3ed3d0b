/**
 * Containers: every container with its state, health and ports, kept live
 * by the events stream (a container's row is read again when an event
 * names it), the lifecycle buttons, and a form to run a new one.
 */
import { api, ApiError, query } from '../api.js';
import { h, notify, replace, type Child, type Page } from '../dom.js';
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

export function containersPage(): Page {
  const rows = new Map<string, ContainerSummary>();
  const tbody = h('tbody');
  const count = h('p', { 'aria-live': 'polite', class: 'count' });
  const render = () => {
    const list = [...rows.values()].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
    replace(tbody, list.map(row));
    const running = list.filter((c) => c.State === 'running').length;
    count.textContent = `${list.length} containers, ${running} running`;
  };
  // one container read again when an event names it: the list stays live without polling
  const pending = new Set<string>();
  let scheduled = false;
  const refresh = (id: string) => {
    pending.add(id);
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(async () => {
      scheduled = false;
      const ids = [...pending];
      pending.clear();
      try {
        const found = await api<ContainerSummary[]>('GET', `/containers/json${query({ all: true, filters: JSON.stringify({ id: ids }) })}`);
        for (const id of ids) rows.delete(id);
        for (const c of found) rows.set(c.Id, c);
        render();
      } catch (err) {
        notify((err as ApiError).message);
      }
    });
  };
  const sub = subscribe((e) => {
    if (e.Type !== 'container' || e.Action.startsWith('exec_')) return;
    if (e.Action === 'destroy') {
      rows.delete(e.Actor.ID);
      render();
    } else refresh(e.Actor.ID);
  });
  void sub.ready.then(async () => {
    try {
      for (const c of await api<ContainerSummary[]>('GET', '/containers/json?all=1')) rows.set(c.Id, c);
      render();
    } catch (err) {
      notify((err as Error).message);
    }
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
  return { el, dispose: () => sub.unsubscribe() };
}
