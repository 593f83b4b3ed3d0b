/** A container's processes from `/containers/{id}/top`, read again on demand. */
import { api } from '../api.js';
import { h, replace } from '../dom.js';

interface Top {
  Titles: string[];
  Processes: string[][];
}

export function topView(id: string): { el: HTMLElement; refresh: () => Promise<void> } {
  const table = h('table', { class: 'list', id: 'processes' });
  const status = h('p', { class: 'count', role: 'status' });
  const refresh = async () => {
    try {
      const top = await api<Top>('GET', `/containers/${encodeURIComponent(id)}/top`);
      replace(table,
        h('caption', { class: 'visually-hidden' }, 'Processes'),
        h('thead', {}, h('tr', {}, top.Titles.map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, top.Processes.map((p) => h('tr', {}, p.map((c) => h('td', {}, c))))));
      status.textContent = `${top.Processes.length} processes`;
    } catch (err) {
      table.replaceChildren();
      status.textContent = (err as Error).message;
    }
  };
  const el = h('section', { 'aria-labelledby': 'top-title', class: 'panel' },
    h('h2', { id: 'top-title' }, 'Processes'),
    h('div', { class: 'toolbar' }, h('button', { type: 'button', onclick: () => void refresh() }, 'Refresh processes')),
    status, table);
  return { el, refresh };
}
