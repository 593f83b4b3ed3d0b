/**
 * A registry browser for any distribution registry, through the console
 * server (`/registry/v2/…?registry=HOST`, which adds the client's
 * credentials): repositories, tags, a manifest or an index (its
 * platforms), the image config, the layers, the referrers (signatures,
 * SBOMs: the referrers API, or the `sha256-<hex>` tag registries without it
 * use), and a delete by digest where the registry allows it.
 */
import { ApiError } from '../api.js';
import { formatBytes, h, replace, type Page } from '../dom.js';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

interface Manifest {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

export function registryPage(): Page {
  const address = h('input', { id: 'registry-address', required: true, autocomplete: 'off', placeholder: '127.0.0.1:5000', value: localStorage.getItem('berth.registry') ?? '' });
  const status = h('p', { role: 'status', id: 'registry-status' });
  const repos = h('ul', { id: 'registry-repos', class: 'plain' });
  const tags = h('div', { id: 'registry-tags' });
  const manifest = h('div', { id: 'registry-manifest' });

  const reg = async (method: string, path: string): Promise<Response> => {
    const res = await fetch(`/registry${path}${path.includes('?') ? '&' : '?'}registry=${encodeURIComponent(address.value.trim())}`, { method, credentials: 'same-origin' });
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch { /* plain text */ }
      throw new ApiError(res.status, message);
    }
    return res;
  };
  const name = (repo: string) => repo.split('/').map(encodeURIComponent).join('/');
  const fail = (err: unknown) => {
    status.textContent = (err as Error).message;
  };

  const showRepos = async () => {
    replace(repos);
    tags.replaceChildren();
    manifest.replaceChildren();
    try {
      localStorage.setItem('berth.registry', address.value.trim());
      const { repositories } = await (await reg('GET', '/v2/_catalog?n=1000')).json() as { repositories: string[] | null };
      replace(repos, (repositories ?? []).map((r) => h('li', { 'data-repo': r }, h('button', { type: 'button', class: 'link', onclick: () => void showTags(r) }, r))));
      status.textContent = `${(repositories ?? []).length} repositories`;
    } catch (err) {
      fail(err);
    }
  };

  const showTags = async (repo: string) => {
    manifest.replaceChildren();
    try {
      const list = await (await reg('GET', `/v2/${name(repo)}/tags/list`)).json() as { tags: string[] | null };
      replace(tags, h('h2', {}, `Tags of ${repo}`),
        h('ul', { class: 'plain' }, (list.tags ?? []).map((t) => h('li', { 'data-tag': t }, h('button', { type: 'button', class: 'link', onclick: () => void showManifest(repo, t) }, t)))));
    } catch (err) {
      fail(err);
    }
  };

  const referrersOf = async (repo: string, digest: string): Promise<Descriptor[]> => {
    try {
      const index = await (await reg('GET', `/v2/${name(repo)}/referrers/${digest}`)).json() as Manifest;
      return index.manifests ?? [];
    } catch (err) {
      if ((err as ApiError).status !== 404) throw err;
    }
    // the fallback tag schema: an index tagged sha256-<hex> lists the referrers
    try {
      const index = await (await reg('GET', `/v2/${name(repo)}/manifests/${digest.replace(':', '-')}`)).json() as Manifest;
      return index.manifests ?? [];
    } catch (err) {
      if ((err as ApiError).status === 404) return [];
      throw err;
    }
  };

  const showManifest = async (repo: string, ref: string) => {
    try {
      const res = await reg('GET', `/v2/${name(repo)}/manifests/${ref.replace(/[^\w.:-]/g, encodeURIComponent)}`);
      const digest = res.headers.get('docker-content-digest') ?? '';
      const m = await res.json() as Manifest;
      const type = m.mediaType ?? res.headers.get('content-type') ?? '';
      const parts: HTMLElement[] = [
        h('h2', {}, `${repo}${ref.startsWith('sha256:') ? '@' : ':'}${ref}`),
        h('dl', { class: 'facts' }, h('dt', {}, 'Digest'), h('dd', { id: 'manifest-digest' }, digest), h('dt', {}, 'Media type'), h('dd', { id: 'manifest-type' }, type),
          m.artifactType ? [h('dt', {}, 'Artifact type'), h('dd', {}, m.artifactType)] : null,
          m.subject ? [h('dt', {}, 'Subject'), h('dd', {}, m.subject.digest)] : null),
      ];
      if (INDEX_TYPES.has(type)) {
        parts.push(h('h3', {}, 'Platforms'), h('table', { class: 'list', id: 'manifest-platforms' },
          h('thead', {}, h('tr', {}, ['Platform', 'Digest', 'Size'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, (m.manifests ?? []).map((d) => h('tr', { 'data-digest': d.digest },
            h('th', { scope: 'row' }, d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : d.artifactType ?? 'unknown'),
            h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => void showManifest(repo, d.digest) }, d.digest)),
            h('td', { class: 'num' }, formatBytes(d.size)))))));
      } else {
        if (m.config) {
          const config = h('pre', { class: 'json', id: 'manifest-config' }, `${m.config.mediaType} ${m.config.digest}`);
          parts.push(h('h3', {}, 'Config'), config);
          if (m.config.size <= 1 << 20 && /json/.test(m.config.mediaType)) {
            void reg('GET', `/v2/${name(repo)}/blobs/${m.config.digest}`).then((r) => r.text()).then((t) => {
              try {
                config.textContent = JSON.stringify(JSON.parse(t), null, 2);
              } catch {
                config.textContent = t;
              }
            }, fail);
          }
        }
        parts.push(h('h3', {}, 'Layers'), h('table', { class: 'list', id: 'manifest-layers' },
          h('thead', {}, h('tr', {}, ['Digest', 'Media type', 'Size'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, (m.layers ?? []).map((l) => h('tr', { 'data-digest': l.digest },
            h('th', { scope: 'row' }, h('code', {}, l.digest)), h('td', {}, l.mediaType), h('td', { class: 'num' }, formatBytes(l.size)))))));
      }
      const refs = h('table', { class: 'list', id: 'manifest-referrers' });
      parts.push(h('h3', {}, 'Referrers'), refs);
      const del = h('button', {
        type: 'button',
        class: 'danger',
        disabled: !digest,
        onclick: async () => {
          if (!window.confirm(`Delete ${repo}@${digest} from the registry?`)) return;
          try {
            await reg('DELETE', `/v2/${name(repo)}/manifests/${digest}`);
            status.textContent = `Deleted ${repo}@${digest}`;
            await showTags(repo);
          } catch (err) {
            fail(err);
          }
        },
      }, 'Delete manifest');
      parts.push(h('p', {}, del));
      replace(manifest, parts);
      if (digest) {
        const list = await referrersOf(repo, digest);
        replace(refs,
          h('thead', {}, h('tr', {}, ['Artifact type', 'Digest', 'Size'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, list.map((d) => h('tr', { 'data-digest': d.digest },
            h('th', { scope: 'row' }, d.artifactType ?? d.mediaType),
            h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => void showManifest(repo, d.digest) }, d.digest)),
            h('td', { class: 'num' }, formatBytes(d.size))))));
        if (!list.length) replace(refs, h('caption', {}, 'No referrers'));
      }
    } catch (err) {
      fail(err);
    }
  };

  const el = h('section', { 'aria-labelledby': 'registry-title' },
    h('h1', { id: 'registry-title' }, 'Registry'),
    h('form', { onsubmit: (ev: Event) => { ev.preventDefault(); void showRepos(); } },
      h('div', { class: 'fields' }, h('div', { class: 'field' }, h('label', { for: 'registry-address' }, 'Registry address'), address)),
      h('button', { type: 'submit' }, 'Browse')),
    status,
    h('div', { class: 'registry-columns' }, h('div', {}, h('h2', {}, 'Repositories'), repos), tags),
    manifest);
  return { el, dispose: () => {} };
}
