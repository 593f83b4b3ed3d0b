/**
 * Volumes and networks: read-only lists for now (create and remove come in
 * a later round), read again when the events stream names one.
 */
import { api } from '../api.js';
import { h, notify, replace, type Child, type Page } from '../dom.js';
import { subscribe } from '../events.js';

interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Scope: string;
}

interface Network {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null };
}

/** A titled table whose rows come from `load`, refreshed on events of `eventType`. */
function listPage(title: string, eventType: string, columns: string[], load: () => Promise<Child[][]>): Page {
  const id = title.toLowerCase();
  const tbody = h('tbody');
  const refresh = async () => {
    try {
      replace(tbody, (await load()).map(([first, ...rest]) => h('tr', {}, h('th', { scope: 'row' }, first), rest.map((c) => h('td', {}, c)))));
    } catch (err) {
      notify((err as Error).message);
    }
  };
  const sub = subscribe((e) => {
    if (e.Type === eventType) void refresh();
  });
  void sub.ready.then(refresh);
  const el = h('section', { 'aria-labelledby': `${id}-title` },
    h('h1', { id: `${id}-title` }, title),
    h('table', { class: 'list', id },
      h('caption', { class: 'visually-hidden' }, `${title} on this engine`),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      tbody));
  return { el, dispose: () => sub.unsubscribe() };
}

export function volumesPage(): Page {
  return listPage('Volumes', 'volume', ['Name', 'Driver', 'Scope', 'Mountpoint', 'Created'], async () => {
    const { Volumes } = await api<{ Volumes: Volume[] | null }>('GET', '/volumes');
    return (Volumes ?? []).sort((a, b) => a.Name.localeCompare(b.Name)).map((v) => [v.Name, v.Driver, v.Scope, h('code', {}, v.Mountpoint), v.CreatedAt ?? '']);
  });
}

export function networksPage(): Page {
  return listPage('Networks', 'network', ['Name', 'ID', 'Driver', 'Scope', 'Subnets', 'Internal'], async () => {
    const list = await api<Network[]>('GET', '/networks');
    return list.sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => [
      n.Name, h('code', {}, n.Id.slice(0, 12)), n.Driver, n.Scope,
      (n.IPAM?.Config ?? []).map((c) => [c.Subnet, c.Gateway ? ` via ${c.Gateway}` : ''].join('')).join(', '),
      n.Internal ? 'yes' : 'no',
    ]);
  });
}
