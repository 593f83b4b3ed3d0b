/**
 * One image: its facts and config, its layers (from `/history`: created by
 * and size, newest last) with the other local images that share each layer
 * (their `RootFS.Layers` hold the same diff ID), and tag and push actions.
 */
import { api, call, query } from '../api.js';
import { formatBytes, h, notify, replace, type Page } from '../dom.js';
import { layerProgress } from './layer-progress.js';

interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: string;
  Size: number;
  Os: string;
  Architecture: string;
  Config?: { Cmd?: string[] | null; Entrypoint?: string[] | null; Env?: string[] | null; WorkingDir?: string; User?: string; ExposedPorts?: Record<string, unknown> | null; Labels?: Record<string, string> | null };
  RootFS: { Layers?: string[] };
}

interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Size: number;
  Comment: string;
}

interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
}

export interface LayerRow {
  createdBy: string;
  size: number;
  created: number;
  /** The diff ID of the layer this step made; none for steps that change only the config. */
  diffId?: string;
}

/**
 * History steps, oldest first, each with the layer it made. The history
 * says nothing of which step made which layer, but the steps that made one
 * are those with a size (empty ones are config-only) and come in the
 * layers' order; when the counts disagree (a zero-byte layer) the layers are
 * matched from the top, as `docker history` lines them up.
 */
export function layerRows(history: HistoryEntry[], layers: string[]): LayerRow[] {
  const steps = [...history].reverse();
  const withLayer = steps.filter((s) => s.Size > 0);
  const offset = layers.length - withLayer.length;
  let k = 0;
  return steps.map((s) => {
    const row: LayerRow = { createdBy: s.CreatedBy, size: s.Size, created: s.Created };
    if (s.Size > 0) {
      const diffId = layers[offset + k++];
      if (diffId) row.diffId = diffId;
    }
    return row;
  });
}

function splitRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

const imagePath = (ref: string) => ref.split('/').map(encodeURIComponent).join('/');

export function imagePage(id: string): Page {
  const el = h('section', { 'aria-labelledby': 'image-title' }, h('h1', { id: 'image-title' }, 'Image'));
  const body = h('div');
  el.append(h('p', {}, h('a', { href: '#/images' }, '← All images')), body);

  const load = async () => {
    try {
      const [img, history, all] = await Promise.all([
        api<ImageInspect>('GET', `/images/${encodeURIComponent(id)}/json`),
        api<HistoryEntry[]>('GET', `/images/${encodeURIComponent(id)}/history`),
        api<ImageSummary[]>('GET', '/images/json'),
      ]);
      const others = await Promise.all(all.filter((o) => o.Id !== img.Id).map(async (o) => {
        const i = await api<ImageInspect>('GET', `/images/${encodeURIComponent(o.Id)}/json`).catch(() => undefined);
        return { name: (o.RepoTags ?? []).find((t) => t !== '<none>:<none>') ?? o.Id.replace('sha256:', '').slice(0, 12), layers: new Set(i?.RootFS.Layers ?? []) };
      }));
      const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
      el.querySelector('h1')!.textContent = tags[0] ?? img.Id.replace('sha256:', '').slice(0, 12);
      const c = img.Config ?? {};
      const facts: [string, string][] = [
        ['ID', img.Id],
        ['Tags', tags.join(', ')],
        ['Digests', (img.RepoDigests ?? []).join(', ')],
        ['Created', img.Created],
        ['Size', formatBytes(img.Size)],
        ['Platform', `${img.Os}/${img.Architecture}`],
        ['Entrypoint', (c.Entrypoint ?? []).join(' ')],
        ['Command', (c.Cmd ?? []).join(' ')],
        ['Working dir', c.WorkingDir ?? ''],
        ['User', c.User ?? ''],
        ['Ports', Object.keys(c.ExposedPorts ?? {}).join(', ')],
        ['Environment', (c.Env ?? []).join('  ')],
        ['Labels', Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join('  ')],
      ];
      const rows = layerRows(history, img.RootFS.Layers ?? []);
      replace(body,
        h('dl', { class: 'facts', id: 'image-facts' }, facts.filter(([, v]) => v).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        h('details', {}, h('summary', {}, 'Config (JSON)'), h('pre', { class: 'json' }, JSON.stringify(img.Config ?? {}, null, 2))),
        h('h2', {}, 'Layers'),
        h('table', { class: 'list', id: 'image-layers' },
          h('caption', { class: 'visually-hidden' }, 'Layers, oldest first'),
          h('thead', {}, h('tr', {}, ['#', 'Created by', 'Size', 'Layer', 'Shared with'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, rows.map((r, i) => {
            const shared = r.diffId ? others.filter((o) => o.layers.has(r.diffId!)).map((o) => o.name) : [];
            return h('tr', { 'data-layer': r.diffId ?? '', 'data-shared': shared.join(' ') },
              h('td', { class: 'num' }, i + 1),
              h('td', { class: 'created-by' }, h('code', {}, r.createdBy)),
              h('td', { class: 'num' }, formatBytes(r.size)),
              h('td', {}, r.diffId ? h('code', { title: r.diffId }, r.diffId.replace('sha256:', '').slice(0, 12)) : ''),
              h('td', {}, shared.join(', ')));
          }))),
        actions(img, tags, load));
    } catch (err) {
      notify((err as Error).message);
    }
  };
  void load();
  return { el, dispose: () => {} };
}

function actions(img: ImageInspect, tags: string[], reload: () => Promise<void>): HTMLElement {
  const newTag = h('input', { id: 'tag-ref', required: true, autocomplete: 'off', placeholder: 'registry.example/team/app:1' });
  const tagForm = h('form', {
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      const { repo, tag } = splitRef(newTag.value.trim());
      try {
        await api('POST', `/images/${encodeURIComponent(img.Id)}/tag${query({ repo, tag })}`);
        notify('');
        newTag.value = '';
        await reload();
      } catch (err) {
        notify((err as Error).message);
      }
    },
  }, h('h2', {}, 'Tag'), h('div', { class: 'fields' }, h('div', { class: 'field' }, h('label', { for: 'tag-ref' }, 'New tag'), newTag)), h('button', { type: 'submit' }, 'Tag'));

  const which = h('select', { id: 'push-ref' }, tags.map((t) => h('option', { value: t }, t)));
  const progress = layerProgress('push');
  const submit = h('button', { type: 'submit', disabled: tags.length === 0 }, 'Push');
  const pushForm = h('form', {
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      const { repo, tag } = splitRef(which.value);
      submit.disabled = true;
      progress.reset(`Pushing ${which.value}…`);
      try {
        await progress.follow(await call('POST', `/images/${imagePath(repo)}/push${query({ tag })}`));
      } catch (err) {
        progress.status.textContent = `Push failed: ${(err as Error).message}`;
      } finally {
        submit.disabled = false;
      }
    },
  }, h('h2', {}, 'Push'), h('div', { class: 'fields' }, h('div', { class: 'field' }, h('label', { for: 'push-ref' }, 'Tag to push'), which)), submit, progress.status, progress.layers);
  return h('div', { class: 'image-actions' }, tagForm, pushForm);
}
