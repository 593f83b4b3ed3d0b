/**
 * One progress bar per layer from the daemon's JSON progress messages (a
 * pull's or a push's), and a status line for the rest.
 *
 *   const p = layerProgress('push');
 *   await p.follow(await call('POST', '/images/app/push?tag=1'));
 */
import { ndjson } from '../api.js';
import { h } from '../dom.js';

interface Progress {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
}

const DONE = /complete|already exists|pushed|layer already exists/i;

export function layerProgress(prefix: string): { layers: HTMLElement; status: HTMLElement; reset(text: string): void; follow(res: Response): Promise<void> } {
  const layers = h('ul', { class: 'layers', id: `${prefix}-layers`, 'aria-label': 'Layers' });
  const status = h('p', { role: 'status', id: `${prefix}-status` });
  const bars = new Map<string, { bar: HTMLProgressElement; text: HTMLElement }>();
  const layer = (id: string) => {
    let l = bars.get(id);
    if (!l) {
      const bar = h('progress', { max: 1, value: 0, 'aria-label': `layer ${id}` });
      const text = h('span', { class: 'layer-status' });
      layers.append(h('li', { 'data-layer': id }, h('code', {}, id), ' ', bar, ' ', text));
      l = { bar, text };
      bars.set(id, l);
    }
    return l;
  };
  return {
    layers,
    status,
    reset(text) {
      layers.replaceChildren();
      bars.clear();
      status.textContent = text;
    },
    async follow(res) {
      for await (const m of ndjson<Progress>(res)) {
        if (m.error) throw new Error(m.error);
        if (m.id && /^[0-9a-f]{12}$/.test(m.id)) {
          const l = layer(m.id);
          const d = m.progressDetail;
          if (d?.total) {
            l.bar.max = d.total;
            l.bar.value = d.current ?? 0;
          }
          if (DONE.test(m.status ?? '')) l.bar.value = l.bar.max;
          l.text.textContent = m.status ?? '';
        } else if (m.status) status.textContent = m.id ? `${m.id}: ${m.status}` : m.status;
      }
    },
  };
}
