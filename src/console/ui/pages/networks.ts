/**
 * Networks: the list (live from network events), create (name, driver,
 * subnet, gateway, internal, attachable), prune of unused ones, and a
 * network's page with its IPAM, the containers attached to it (from its
 * inspect) and Remove. Removes ask first; the daemon's refusal (a
 * predefined network, active endpoints) is shown in its words.
 */
import { api } from '../api.js';
import { h, notify, replace, type Page } from '../dom.js';
import { subscribe } from '../events.js';
import { confirmButton, facts, field, listPage, pairs, resourceForm } from './resources.js';

interface IpamConfig {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
}

interface Network {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created?: string;
  Internal: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: IpamConfig[] | null };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  Containers?: Record<string, { Name: string; IPv4Address?: string; IPv6Address?: string; MacAddress?: string }> | null;
}

const subnets = (n: Network) => (n.IPAM?.Config ?? []).map((c) => [c.Subnet, c.Gateway ? ` via ${c.Gateway}` : ''].join('')).join(', ');
const networkHref = (n: Network) => `#/networks/${encodeURIComponent(n.Id)}`;
const removeNetwork = (id: string) => api('DELETE', `/networks/${encodeURIComponent(id)}`);

function createForm(): HTMLElement {
  const name = field('network', 'Name', 'name', { required: true, placeholder: 'front' });
  const driver = field('network', 'Driver', 'driver', { value: 'bridge' });
  const subnet = field('network', 'Subnet', 'subnet', { placeholder: '10.20.0.0/24' });
  const gateway = field('network', 'Gateway', 'gateway', { placeholder: '10.20.0.1' });
  const labels = field('network', 'Labels', 'labels', { placeholder: 'key=value, …' });
  const internal = field('network', 'Internal', 'internal', { type: 'checkbox' });
  const attachable = field('network', 'Attachable', 'attachable', { type: 'checkbox' });
  return resourceForm('network', [name.el, driver.el, subnet.el, gateway.el, labels.el, internal.el, attachable.el], async () => {
    const config: IpamConfig = {};
    if (subnet.input.value.trim()) config.Subnet = subnet.input.value.trim();
    if (gateway.input.value.trim()) config.Gateway = gateway.input.value.trim();
    const r = await api<{ Id: string; Warning?: string }>('POST', '/networks/create', {
      Name: name.input.value.trim(), Driver: driver.input.value.trim() || 'bridge', CheckDuplicate: true,
      Internal: internal.input.checked, Attachable: attachable.input.checked, Labels: pairs(labels.input.value),
      IPAM: { Driver: 'default', Config: Object.keys(config).length ? [config] : [] },
    });
    return `Created network ${name.input.value.trim()} (${r.Id.slice(0, 12)})${r.Warning ? `: ${r.Warning}` : ''}`;
  });
}

function pruneButton(): HTMLElement {
  const status = h('span', { role: 'status', id: 'network-prune-status' });
  return h('p', {}, confirmButton('Prune unused networks', 'Prune unused networks', 'Remove all user-defined networks that no container uses?', async () => {
    const r = await api<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune');
    status.textContent = `Removed ${(r.NetworksDeleted ?? []).length} networks`;
  }), ' ', status);
}

export function networksPage(): Page {
  return listPage('Networks', 'network', ['Name', 'ID', 'Driver', 'Scope', 'Subnets', 'Internal', 'Actions'], async () => {
    const list = await api<Network[]>('GET', '/networks');
    return list.sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => h('tr', { 'data-network': n.Name },
      h('th', { scope: 'row' }, h('a', { href: networkHref(n) }, n.Name)),
      h('td', {}, h('code', {}, n.Id.slice(0, 12))), h('td', {}, n.Driver), h('td', {}, n.Scope),
      h('td', {}, subnets(n)), h('td', {}, n.Internal ? 'yes' : 'no'),
      h('td', { class: 'actions' }, confirmButton('Remove', `Remove network ${n.Name}`, `Remove network ${n.Name}?`, () => removeNetwork(n.Id)))));
  }, [pruneButton(), createForm()]);
}

/** One network: its details and IPAM, the containers attached to it, Remove. */
export function networkPage(id: string): Page {
  const title = h('h1', { id: 'network-title' }, id.slice(0, 12));
  const details = h('div');
  const attached = h('tbody');
  let networkId = id;
  const load = async () => {
    try {
      const n = await api<Network>('GET', `/networks/${encodeURIComponent(id)}`);
      networkId = n.Id;
      title.textContent = n.Name;
      removeBtn.setAttribute('aria-label', `Remove network ${n.Name}`);
      replace(details, facts('network-facts', [
        ['Name', n.Name], ['ID', n.Id], ['Driver', n.Driver], ['Scope', n.Scope], ['Created', n.Created ?? ''],
        ['Subnets', subnets(n)], ['IP ranges', (n.IPAM?.Config ?? []).map((c) => c.IPRange).filter(Boolean).join(', ')],
        ['Internal', n.Internal ? 'yes' : 'no'], ['Attachable', n.Attachable ? 'yes' : 'no'], ['IPv6', n.EnableIPv6 ? 'yes' : 'no'],
        ['Options', Object.entries(n.Options ?? {}).map(([k, x]) => `${k}=${x}`).join(', ')],
        ['Labels', Object.entries(n.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(', ')],
      ]), h('details', {}, h('summary', {}, 'Inspect (JSON)'), h('pre', { class: 'json' }, JSON.stringify(n, null, 2))));
      const list = Object.entries(n.Containers ?? {}).sort(([, a], [, b]) => a.Name.localeCompare(b.Name));
      replace(attached, list.length ? list.map(([cid, c]) => h('tr', { 'data-name': c.Name },
        h('th', { scope: 'row' }, h('a', { href: `#/containers/${encodeURIComponent(cid)}` }, c.Name)),
        h('td', {}, c.IPv4Address ?? ''), h('td', {}, c.IPv6Address ?? ''), h('td', {}, c.MacAddress ?? ''))) : h('tr', {}, h('td', { colspan: 4 }, 'No container is attached to this network.')));
    } catch (err) {
      notify((err as Error).message);
    }
  };
  const removeBtn = confirmButton('Remove', `Remove network ${id}`, 'Remove this network?', () => removeNetwork(networkId), () => { location.hash = '#/networks'; });
  // connects and disconnects are network events; a container that stops leaves its networks too
  const sub = subscribe((e) => {
    if (e.Type === 'network' && e.Actor.ID === networkId && e.Action === 'destroy') location.hash = '#/networks';
    else if (e.Type === 'network' || (e.Type === 'container' && ['start', 'die', 'destroy'].includes(e.Action))) void load();
  });
  void sub.ready.then(load);
  const el = h('section', { 'aria-labelledby': 'network-title' },
    h('p', {}, h('a', { href: '#/networks' }, '← All networks')),
    title,
    details,
    h('h2', { id: 'network-containers-title' }, 'Containers'),
    h('table', { class: 'list', id: 'network-containers', 'aria-labelledby': 'network-containers-title' },
      h('thead', {}, h('tr', {}, ['Container', 'IPv4', 'IPv6', 'MAC'].map((c) => h('th', { scope: 'col' }, c)))), attached),
    h('p', {}, removeBtn));
  return { el, dispose: () => sub.unsubscribe() };
}
