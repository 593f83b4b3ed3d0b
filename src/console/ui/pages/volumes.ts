/**
 * Volumes: the list (live from volume events), create (name, driver,
 * options, labels), prune of unused ones, and a volume's page with its
 * details, the containers that use it and Remove. Removes ask first; the
 * daemon's refusal (a volume in use: 409) is shown in its words.
 */
import { api, query } from '../api.js';
import { formatBytes, h, notify, replace, type Page } from '../dom.js';
import { subscribe } from '../events.js';
import type { ContainerSummary } from './containers.js';
import { nameOf } from './containers.js';
import { confirmButton, facts, field, listPage, pairs, resourceForm } from './resources.js';

interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Scope: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

const volumeHref = (name: string) => `#/volumes/${encodeURIComponent(name)}`;
const removeVolume = (name: string) => api('DELETE', `/volumes/${encodeURIComponent(name)}`);

function createForm(): HTMLElement {
  const name = field('volume', 'Name', 'name', { placeholder: 'optional' });
  const driver = field('volume', 'Driver', 'driver', { value: 'local' });
  const opts = field('volume', 'Options', 'options', { placeholder: 'type=tmpfs, device=tmpfs' });
  const labels = field('volume', 'Labels', 'labels', { placeholder: 'key=value, …' });
  return resourceForm('volume', [name.el, driver.el, opts.el, labels.el], async () => {
    const v = await api<Volume>('POST', '/volumes/create', {
      Name: name.input.value.trim(), Driver: driver.input.value.trim() || 'local',
      DriverOpts: pairs(opts.input.value), Labels: pairs(labels.input.value),
    });
    name.input.value = '';
    return `Created volume ${v.Name}`;
  });
}

function pruneButton(): HTMLElement {
  const status = h('span', { role: 'status', id: 'volume-prune-status' });
  return h('p', {}, confirmButton('Prune unused volumes', 'Prune unused volumes', 'Remove all local volumes that no container uses?', async () => {
    // API 1.42+ prunes only anonymous volumes unless asked for all (`docker volume prune --all`);
    // older engines (dockerd 20.10) prune every unused one and refuse the `all` filter
    const { ApiVersion } = await api<{ ApiVersion: string }>('GET', '/version');
    const [major = 0, minor = 0] = ApiVersion.split('.').map(Number);
    const all = major > 1 || (major === 1 && minor >= 42);
    const r = await api<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', `/volumes/prune${all ? query({ filters: JSON.stringify({ all: ['true'] }) }) : ''}`);
    status.textContent = `Removed ${(r.VolumesDeleted ?? []).length} volumes, reclaimed ${formatBytes(r.SpaceReclaimed)}`;
  }), ' ', status);
}

export function volumesPage(): Page {
  return listPage('Volumes', 'volume', ['Name', 'Driver', 'Scope', 'Mountpoint', 'Created', 'Actions'], async () => {
    const { Volumes } = await api<{ Volumes: Volume[] | null }>('GET', '/volumes');
    return (Volumes ?? []).sort((a, b) => a.Name.localeCompare(b.Name)).map((v) => h('tr', { 'data-volume': v.Name },
      h('th', { scope: 'row' }, h('a', { href: volumeHref(v.Name) }, v.Name)),
      h('td', {}, v.Driver), h('td', {}, v.Scope), h('td', {}, h('code', {}, v.Mountpoint)), h('td', {}, v.CreatedAt ?? ''),
      h('td', { class: 'actions' }, confirmButton('Remove', `Remove volume ${v.Name}`, `Remove volume ${v.Name}? Its data is deleted.`, () => removeVolume(v.Name)))));
  }, [pruneButton(), createForm()]);
}

/** One volume: its details, the containers that mount it (running or not), Remove. */
export function volumePage(name: string): Page {
  const details = h('div');
  const users = h('tbody');
  const load = async () => {
    try {
      const [v, list] = await Promise.all([
        api<Volume>('GET', `/volumes/${encodeURIComponent(name)}`),
        api<ContainerSummary[]>('GET', `/containers/json${query({ all: true, filters: JSON.stringify({ volume: [name] }) })}`),
      ]);
      replace(details, facts('volume-facts', [
        ['Name', v.Name], ['Driver', v.Driver], ['Scope', v.Scope], ['Mountpoint', h('code', {}, v.Mountpoint)], ['Created', v.CreatedAt ?? ''],
        ['Size', v.UsageData && v.UsageData.Size >= 0 ? formatBytes(v.UsageData.Size) : ''],
        ['Options', Object.entries(v.Options ?? {}).map(([k, x]) => `${k}=${x}`).join(', ')],
        ['Labels', Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(', ')],
      ]), h('details', {}, h('summary', {}, 'Inspect (JSON)'), h('pre', { class: 'json' }, JSON.stringify(v, null, 2))));
      replace(users, list.length ? list.map((c) => h('tr', { 'data-name': nameOf(c) },
        h('th', { scope: 'row' }, h('a', { href: `#/containers/${encodeURIComponent(c.Id)}` }, nameOf(c))),
        h('td', {}, h('span', { class: `state state-${c.State}` }, c.State)), h('td', {}, c.Image))) : h('tr', {}, h('td', { colspan: 3 }, 'No container uses this volume.')));
    } catch (err) {
      notify((err as Error).message);
    }
  };
  // a container that mounts it is created, started or removed, or the volume itself goes
  const sub = subscribe((e) => {
    if (e.Type === 'container' && !e.Action.startsWith('exec_')) void load();
    if (e.Type === 'volume' && e.Actor.ID === name && e.Action === 'destroy') location.hash = '#/volumes';
  });
  void sub.ready.then(load);
  const el = h('section', { 'aria-labelledby': 'volume-title' },
    h('p', {}, h('a', { href: '#/volumes' }, '← All volumes')),
    h('h1', { id: 'volume-title' }, name),
    details,
    h('h2', { id: 'volume-users-title' }, 'Used by'),
    h('table', { class: 'list', id: 'volume-users', 'aria-labelledby': 'volume-users-title' },
      h('thead', {}, h('tr', {}, ['Container', 'State', 'Image'].map((c) => h('th', { scope: 'col' }, c)))), users),
    h('p', {}, confirmButton('Remove', `Remove volume ${name}`, `Remove volume ${name}? Its data is deleted.`, () => removeVolume(name), () => { location.hash = '#/volumes'; })));
  return { el, dispose: () => sub.unsubscribe() };
}
