/**
 * Images: the list with tags and sizes (read again on image events), delete
 * with confirmation, prune of dangling images, and a pull with a progress
 * bar per layer from the daemon's JSON progress messages.
 */
import { api, call, query } from '../api.js';
import { ago, formatBytes, h, notify, replace, type Page } from '../dom.js';
import { subscribe } from '../events.js';
import { layerProgress } from './layer-progress.js';

interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Size: number;
  Created: number;
  Containers: number;
}

function tagsOf(i: ImageSummary): string[] {
  const tags = (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  return tags.length ? tags : ['<none>'];
}

function pullForm(): HTMLElement {
  const input = h('input', { id: 'pull-ref', name: 'image', required: true, autocomplete: 'off', placeholder: 'busybox:latest' });
  const progress = layerProgress('pull');
  const submit = h('button', { type: 'submit' }, 'Pull');
  return h('form', {
    class: 'pull-form',
    'aria-labelledby': 'pull-title',
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      submit.disabled = true;
      const ref = input.value.trim();
      progress.reset(`Pulling ${ref}…`);
      try {
        await progress.follow(await call('POST', `/images/create${query({ fromImage: ref })}`));
        notify('');
      } catch (err) {
        progress.status.textContent = `Pull failed: ${(err as Error).message}`;
      } finally {
        submit.disabled = false;
      }
    },
  },
    h('h2', { id: 'pull-title' }, 'Pull an image'),
    h('div', { class: 'fields' }, h('div', { class: 'field' }, h('label', { for: 'pull-ref' }, 'Image'), input)),
    submit, progress.status, progress.layers);
}

/** `docker image prune` (dangling images only), after asking. */
function pruneButton(): HTMLElement {
  const status = h('span', { role: 'status', id: 'prune-status' });
  return h('p', {}, h('button', {
    type: 'button',
    class: 'danger',
    onclick: async () => {
      if (!window.confirm('Remove all dangling images?')) return;
      try {
        const r = await api<{ ImagesDeleted: unknown[] | null; SpaceReclaimed: number }>('POST', `/images/prune${query({ filters: JSON.stringify({ dangling: ['true'] }) })}`);
        status.textContent = `Removed ${(r.ImagesDeleted ?? []).length} images, reclaimed ${formatBytes(r.SpaceReclaimed)}`;
      } catch (err) {
        notify((err as Error).message);
      }
    },
  }, 'Prune dangling images'), ' ', status);
}

export function imagesPage(): Page {
  const tbody = h('tbody');
  const load = async () => {
    try {
      const list = await api<ImageSummary[]>('GET', '/images/json');
      list.sort((a, b) => b.Created - a.Created);
      replace(tbody, list.flatMap((i) => tagsOf(i).map((tag) => h('tr', { 'data-tag': tag },
        h('th', { scope: 'row' }, h('a', { href: `#/images/${i.Id.replace('sha256:', '')}` }, tag)),
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
    pruneButton(),
    pullForm(),
  );
  return { el, dispose: () => sub.unsubscribe() };
}
