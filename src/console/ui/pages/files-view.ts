/**
 * A container's files, through the archive API: the console server lists a
 * directory's children (`/files`) and streams one file as a download
 * (`/files/download`); see server/container-files.ts.
 */
import { ApiError } from '../api.js';
import { ago, formatBytes, h, replace } from '../dom.js';

interface FileEntry {
  name: string;
  type: string;
  size: number;
  mode: number;
  mtime: number;
  linkname?: string;
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function parent(dir: string): string {
  const i = dir.lastIndexOf('/');
  return i <= 0 ? '/' : dir.slice(0, i);
}

export function filesView(id: string): { el: HTMLElement; open: (dir: string) => Promise<void> } {
  const pathInput = h('input', { type: 'text', id: 'files-path', value: '/', size: 40 });
  const table = h('table', { class: 'list', id: 'files' });
  const status = h('p', { class: 'count', role: 'status' });
  const q = (path: string) => `?container=${encodeURIComponent(id)}&path=${encodeURIComponent(path)}`;

  const open = async (dir: string) => {
    try {
      const res = await fetch(`/files${q(dir)}`, { credentials: 'same-origin' });
      const body = await res.json() as { message?: string; path: string; type: string; entries: FileEntry[]; truncated: boolean };
      if (!res.ok) throw new ApiError(res.status, body.message ?? res.statusText);
      if (body.type !== 'dir') {
        // a file's path: offer it in its directory
        await open(parent(body.path));
        return;
      }
      pathInput.value = body.path;
      const rows = body.entries.map((e) => {
        const path = join(body.path, e.name);
        const name = e.type === 'dir'
          ? h('a', { href: '#', onclick: (ev: Event) => { ev.preventDefault(); void open(path); } }, `${e.name}/`)
          : e.type === 'file'
            ? h('a', { href: `/files/download${q(path)}`, download: e.name, 'aria-label': `Download ${e.name}` }, e.name)
            : `${e.name}${e.linkname ? ` → ${e.linkname}` : ''}`;
        return h('tr', { 'data-name': e.name, 'data-type': e.type },
          h('th', { scope: 'row' }, name), h('td', {}, e.type), h('td', { class: 'num' }, e.type === 'file' ? formatBytes(e.size) : ''),
          h('td', {}, `0${(e.mode & 0o7777).toString(8)}`), h('td', {}, ago(e.mtime)));
      });
      replace(table,
        h('caption', { class: 'visually-hidden' }, `Files in ${body.path}`),
        h('thead', {}, h('tr', {}, ['Name', 'Type', 'Size', 'Mode', 'Modified'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {},
          body.path !== '/' ? h('tr', { 'data-name': '..' }, h('th', { scope: 'row' }, h('a', { href: '#', onclick: (ev: Event) => { ev.preventDefault(); void open(parent(body.path)); } }, '../')), h('td', { colspan: 4 })) : null,
          rows));
      status.textContent = `${body.entries.length} entries in ${body.path}${body.truncated ? ' (cut short: too many files below)' : ''}`;
    } catch (err) {
      status.textContent = (err as Error).message;
    }
  };
  const el = h('section', { 'aria-labelledby': 'files-title', class: 'panel' },
    h('h2', { id: 'files-title' }, 'Files'),
    h('form', { class: 'toolbar', onsubmit: (ev: Event) => { ev.preventDefault(); void open(pathInput.value || '/'); } },
      h('label', { for: 'files-path' }, 'Path '), pathInput, h('button', { type: 'submit' }, 'Open')),
    status, table);
  return { el, open };
}
