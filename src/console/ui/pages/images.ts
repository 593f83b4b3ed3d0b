/**
 * Images: the list with tags and sizes (read again on image events), delete
 * with confirmation, and a pull with a progress bar per layer from the
 * daemon's JSON progress messages.
 */
import { api, call, ndjson, query } from '../api.js';
import { ago, formatBytes, h, notify, replace, type Page } from '../dom.js';
import { subscribe } from '../events.js';

interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Size: number;
  Created: number;
  Containers: number;
}

interface Progress {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
}

function tagsOf(i: ImageSummary): string[] {
  const tags = (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  return tags.length ? tags : ['<none>'];
}

function pullForm(): HTMLElement {
  const input = h('input', { id: 'pull-ref', name: 'image', required: true, autocomplete: 'off', placeholder: 'busybox:latest' });
  const layers = h('ul', { class: 'layers', id: 'pull-layers', 'aria-label': 'Layers' });
  const status = h('p', { role: 'status', id: 'pull-status' });
  const submit = h('button', { type: 'submit' }, 'Pull');
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
  return h('form', {
    class: 'pull-form',
    'aria-labelledby': 'pull-title',
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      submit.disabled = true;
      layers.replaceChildren();
      bars.clear();
      const ref = input.value.trim();
      status.textContent = `Pulling ${ref}…`;
      try {
        const res = await call('POST', `/images/create${query({ fromImage: ref })}`);
        for await (const m of ndjson<Progress>(res)) {
          if (m.error) throw new Error(m.error);
          if (m.id && /^[0-9a-f]{12}$/.test(m.id)) {
            const l = layer(m.id);
            const d = m.progressDetail;
            if (d?.total) {
              l.bar.max = d.total;
              l.bar.value = d.current ?? 0;
            }
            if (/complete|already exists/i.test(m.status ?? '')) l.bar.value = l.bar.max;
            l.text.textContent = m.status ?? '';
          } else if (m.status) status.textContent = m.status;
        }
        notify('');
      } catch (err) {
        status.textContent = `Pull failed: ${(err as Error).message}`;
      } finally {
        submit.disabled = false;
      }
    },
  },
    h('h2', { id: 'pull-title' }, 'Pull an image'),
    h('div', { class: 'fields' }, h('div', { class: 'field' }, h('label', { for: 'pull-ref' }, 'Image'), input)),
    submit, status, layers);
}

export function imagesPage(): Page {
  const tbody = h('tbody');
  const load = async () => {
    try {
      const list = await api<ImageSummary[]>('GET', '/images/json');
      list.sort((a, b) => b.Created - a.Created);
      replace(tbody, list.flatMap((i) => tagsOf(i).map((tag) => h('tr', { 'data-tag': tag },
        h('th', { scope: 'row' }, tag),
        h('td', {}, h('code', {}, i.Id.replace('sha256:', '').slice(0, 12))),
        h('td', {}, ago(i.Created)),
        h('td', { class: 'num' }, formatBytes(i.Size)),
        h('td', { class: 'actions' }, h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Remove ${tag}`,
          onclick: async () => {
            if (!window.confirm(`Remove image ${tag}?`)) return;
            try {
              await api('DELETE', `/images/${tag === '<none>' ? i.Id : tag.split('/').map(encodeURIComponent).join('/')}`);
              notify('');
            } catch (err) {
              notify((err as Error).message);
            }
            void load();
          },
        }, 'Remove')),
      ))));
    } catch (err) {
      notify((err as Error).message);
    }
  };
  const sub = subscribe((e) => {
    if (e.Type === 'image') void load();
  });
  void sub.ready.then(load);
  const el = h('section', { 'aria-labelledby': 'images-title' },
    h('h1', { id: 'images-title' }, 'Images'),
    h('table', { class: 'list', id: 'images' },
      h('caption', { class: 'visually-hidden' }, 'Images on this engine'),
      h('thead', {}, h('tr', {}, ...['Tag', 'ID', 'Created', 'Size', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody),
    pullForm(),
  );
  return { el, dispose: () => sub.unsubscribe() };
}
