/**
 * The events timeline: `/events` from a chosen time (the past replayed,
 * then live), newest first, filterable by type; each event on a time axis
 * with its type, action and actor.
 */
import { call, ndjson, query } from '../api.js';
import { h, type Page } from '../dom.js';
import type { EngineEvent } from '../events.js';

const MAX_ROWS = 2000;
const TYPES = ['container', 'image', 'volume', 'network', 'daemon', 'plugin', 'service', 'node', 'secret', 'config'];

export function eventsPage(): Page {
  const since = h('select', { id: 'events-since' },
    [['5 minutes', 300], ['1 hour', 3600], ['1 day', 86400], ['1 week', 604800]].map(([label, s]) => h('option', { value: String(s), selected: s === 3600 }, `last ${label}`)));
  const type = h('select', { id: 'events-type' }, h('option', { value: '' }, 'all types'), TYPES.map((t) => h('option', { value: t }, t)));
  const tbody = h('tbody');
  const status = h('p', { class: 'count', role: 'status', id: 'events-status' });
  let ac: AbortController | undefined;
  let count = 0;

  const row = (e: EngineEvent) => {
    const at = new Date(e.timeNano ? e.timeNano / 1e6 : e.time * 1000);
    const name = e.Actor.Attributes.name ?? e.Actor.ID.replace('sha256:', '').slice(0, 12);
    const link = e.Type === 'container' && e.Actor.ID ? h('a', { href: `#/containers/${encodeURIComponent(e.Actor.ID)}` }, name) : name;
    return h('tr', { 'data-type': e.Type, 'data-action': e.Action, 'data-actor': name, class: `event event-${e.Type}` },
      h('td', {}, h('time', { datetime: at.toISOString() }, at.toLocaleString())),
      h('td', {}, h('span', { class: `event-type type-${e.Type}` }, e.Type)),
      h('th', { scope: 'row' }, e.Action),
      h('td', {}, link),
      h('td', { class: 'muted' }, Object.entries(e.Actor.Attributes).filter(([k]) => k !== 'name').map(([k, v]) => `${k}=${v}`).join(' ')));
  };

  const start = async () => {
    ac?.abort();
    const mine = new AbortController();
    ac = mine;
    tbody.replaceChildren();
    count = 0;
    status.textContent = 'Loading…';
    try {
      const filters = type.value ? JSON.stringify({ type: [type.value] }) : undefined;
      const res = await call('GET', `/events${query({ since: Math.floor(Date.now() / 1000) - Number(since.value), filters })}`, undefined, mine.signal);
      status.textContent = 'Live: new events appear at the top.';
      for await (const e of ndjson<EngineEvent>(res)) {
        if (mine.signal.aborted) return;
        tbody.prepend(row(e));
        count++;
        if (tbody.childElementCount > MAX_ROWS) tbody.lastElementChild!.remove();
        status.textContent = `${count} events · live`;
      }
    } catch (err) {
      if (!mine.signal.aborted) status.textContent = `events: ${(err as Error).message}`;
    }
  };
  since.addEventListener('change', () => void start());
  type.addEventListener('change', () => void start());
  void start();
  const el = h('section', { 'aria-labelledby': 'events-title' },
    h('h1', { id: 'events-title' }, 'Events'),
    h('div', { class: 'toolbar' }, h('label', { for: 'events-since' }, 'Since '), since, h('label', { for: 'events-type' }, 'Type '), type),
    status,
    h('table', { class: 'list timeline', id: 'events' },
      h('caption', { class: 'visually-hidden' }, 'Engine events, newest first'),
      h('thead', {}, h('tr', {}, ['Time', 'Type', 'Action', 'Object', 'Attributes'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody));
  return { el, dispose: () => ac?.abort() };
}
