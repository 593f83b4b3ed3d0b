/** The console's entry: a hash router over the pages, one page shown at a time. */
import { api } from './api.js';
import { h, replace, type Page } from './dom.js';
import { containerPage } from './pages/container.js';
import { containersPage } from './pages/containers.js';
import { eventsPage } from './pages/events-page.js';
import { imagePage } from './pages/image.js';
import { imagesPage } from './pages/images.js';
import { networkPage, networksPage } from './pages/networks.js';
import { registryPage } from './pages/registry.js';
import { systemPage } from './pages/system.js';
import { volumePage, volumesPage } from './pages/volumes.js';
import { clusterPage } from './pages/cluster.js';
import { servicePage } from './pages/service.js';

const routes: [RegExp, (...args: string[]) => Page][] = [
  [/^#\/containers\/([^/]+)$/, (id) => containerPage(decodeURIComponent(id))],
  [/^#\/images\/([^/]+)$/, (id) => imagePage(decodeURIComponent(id))],
  [/^#\/images$/, () => imagesPage()],
  [/^#\/volumes$/, () => volumesPage()],
  [/^#\/volumes\/([^/]+)$/, (name) => volumePage(decodeURIComponent(name))],
  [/^#\/networks$/, () => networksPage()],
  [/^#\/networks\/([^/]+)$/, (id) => networkPage(decodeURIComponent(id))],
  [/^#\/system$/, () => systemPage()],
  [/^#\/registry$/, () => registryPage()],
  [/^#\/events$/, () => eventsPage()],
  [/^#\/cluster$/, () => clusterPage()],
  [/^#\/cluster\/services\/([^/]+)$/, (id) => servicePage(decodeURIComponent(id))],
  [/^(?:#\/containers)?$/, () => containersPage()],
];

const main = document.getElementById('main')!;
let current: Page | undefined;

function show(): void {
  current?.dispose();
  const hash = location.hash === '#/' ? '' : location.hash;
  for (const [re, make] of routes) {
    const m = re.exec(hash);
    if (!m) continue;
    current = make(...m.slice(1));
    replace(main, current.el);
    for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
      const here = hash.startsWith(a.getAttribute('href')!) || (!hash && a.getAttribute('href') === '#/containers');
      if (here) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    main.querySelector('h1')?.focus();
    return;
  }
  current = undefined;
  replace(main, h('h1', {}, 'Not found'));
}

window.addEventListener('hashchange', show);
show();
void api<{ Version: string; Os: string; Arch: string }>('GET', '/version').then((v) => {
  document.getElementById('engine')!.textContent = `Engine ${v.Version} · ${v.Os}/${v.Arch}`;
}, () => {});
