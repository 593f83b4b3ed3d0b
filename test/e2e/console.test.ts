/**
 * `berth console` in a real browser (Debian's Chromium through
 * playwright-core) against a real berthd: the token is required and works
 * once, cross-origin writes are refused, a container run from the page
 * runs and its logs stream in, the terminal runs `echo hi`, a `docker stop`
 * shows within a second, and a pull shows per-layer progress.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { TestDaemon } from '../support/daemon.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { consoleHttp, launchChromium, screenshot, startConsoleProcess, type ConsoleProcess } from '../support/console.js';

describe('berth console', () => {
  let d: TestDaemon;
  let con: ConsoleProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cookie = '';

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    con = await startConsoleProcess(d.env);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  });
  after(async () => {
    await browser?.close();
    await con?.stop();
    await d?.destroy();
  });

  const ok = async (args: string[]) => (await d.dockerOk(args, { timeoutMs: 120_000 })).trim();
  const shot = (name: string) => screenshot(page, name);

  test('without the token: 401 for the page, the API and the terminal', async () => {
    for (const path of ['/', '/app.js', '/api/containers/json', '/?token=0123']) {
      const r = await consoleHttp(con.origin, 'GET', path);
      assert.equal(r.status, 401, path);
      assert.match(JSON.parse(r.body).message, /token|console/);
    }
    const ws = new WebSocket(`${con.origin.replace('http', 'ws')}/terminal?container=x`, { origin: con.origin });
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    assert.equal(status, 401);
  });

  test('with the token the page loads; the token then works no more', async () => {
    await page.goto(con.url);
    assert.equal(new URL(page.url()).search, '', 'the token is gone from the address bar');
    await page.getByRole('heading', { name: 'Containers', level: 1 }).waitFor();
    const cookies = await context.cookies();
    const c = cookies.find((x) => x.name === 'berth_console');
    assert.ok(c, 'a session cookie');
    assert.equal(c.httpOnly, true);
    assert.equal(c.sameSite, 'Strict');
    cookie = `${c.name}=${c.value}`;
    assert.equal((await consoleHttp(con.origin, 'GET', new URL(con.url).pathname + new URL(con.url).search)).status, 401, 'the token is spent');
    assert.equal((await consoleHttp(con.origin, 'GET', '/api/_ping', { Cookie: cookie })).status, 200);
    await shot('containers-empty');
  });

  test('a cross-origin POST is refused, as is a route off the allow-list', async () => {
    const id = await ok(['create', '--name', 'victim', 'busybox', 'sleep', '60']);
    const foreign = await consoleHttp(con.origin, 'POST', `/api/containers/${id}/start`, { Cookie: cookie, Origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(JSON.parse(foreign.body).message, 'cross-origin request refused');
    const noOrigin = await consoleHttp(con.origin, 'POST', `/api/containers/${id}/start`, { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site' });
    assert.equal(noOrigin.status, 403);
    assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', id])), 'created', 'nothing was started');
    // the same request from the page's own origin goes through
    const same = await page.evaluate(async (cid) => (await fetch(`/api/containers/${cid}/start`, { method: 'POST' })).status, id);
    assert.equal(same, 204);
    // a page on a DNS-rebound name reaches the console's address but names another host
    const rebound = await consoleHttp(con.origin, 'GET', '/api/containers/json', { Cookie: cookie, Host: `evil.example:${new URL(con.origin).port}` });
    assert.equal(rebound.status, 403);
    const plugin = await consoleHttp(con.origin, 'POST', '/api/plugins/pull?remote=evil', { Cookie: cookie, Origin: con.origin });
    assert.equal(plugin.status, 403);
    assert.match(JSON.parse(plugin.body).message, /does not forward POST \/plugins\/pull/);
    const ws = new WebSocket(`${con.origin.replace('http', 'ws')}/terminal?container=${id}`, { origin: 'http://evil.example', headers: { Cookie: cookie } });
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    assert.equal(status, 403, 'a cross-origin websocket gets no terminal');
    await ok(['rm', '-f', id]);
  });

  test('a container run from the page runs, and its logs stream into its page', async () => {
    await page.goto(`${con.origin}/#/containers`);
    await page.getByLabel('Image').fill('busybox');
    await page.getByLabel('Name').fill('web');
    await page.getByLabel('Command').fill(`sh -c 'trap "exit 0" TERM; i=0; while true; do echo line-$i; echo err-$i >&2; i=$((i+1)); sleep 0.2; done'`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('#containers tr[data-name="web"][data-state="running"]').waitFor({ timeout: 15_000 });
    assert.equal(await ok(['inspect', '-f', '{{.State.Status}}', 'web']), 'running');
    await page.getByRole('link', { name: 'web', exact: true }).click();
    await page.getByRole('heading', { name: 'web', level: 1 }).waitFor();
    // lines written after the page opened arrive too: the stream follows
    const before = Number(/line-(\d+)/.exec((await d.docker(['logs', '--tail', '1', 'web'])).stdout)?.[1] ?? 0);
    await page.locator('#logs .stdout', { hasText: `line-${before + 5}` }).waitFor({ timeout: 15_000 });
    await page.locator('#logs .stderr', { hasText: 'err-1' }).first().waitFor();
    // search keeps only the matching lines, those still arriving included
    await page.getByLabel('Search').fill('err-2');
    const shown = async () => page.locator('#logs .line:visible').allTextContents();
    assert.ok((await shown()).every((l) => l.includes('err-2')), (await shown()).join('|'));
    await page.locator('#logs .line:visible', { hasText: 'err-20' }).waitFor({ timeout: 15_000 });
    assert.ok((await shown()).every((l) => l.includes('err-2')), (await shown()).join('|'));
    await page.getByLabel('Search').fill('');
    await shot('container-logs');
  });

  test('typing echo hi in the terminal shows hi', async () => {
    await page.getByRole('button', { name: 'Open terminal' }).click();
    await page.locator('#terminal .xterm-rows').waitFor();
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 });
    await page.keyboard.type('echo hi\n');
    const rows = page.locator('#terminal .xterm-rows > div');
    await rows.filter({ hasText: /^\s*hi\s*$/ }).first().waitFor({ timeout: 15_000 });
    await page.keyboard.type('stty size\n');
    // the exec's tty has the terminal's size, not the 24x80 default
    const size = rows.filter({ hasText: /^\s*\d+ \d+\s*$/ }).first();
    await size.waitFor({ timeout: 15_000 }).catch(async (err: Error) => {
      await shot('container-terminal-failed');
      throw new Error(`${err.message}\nterminal:\n${(await rows.allTextContents()).join('\n')}`);
    });
    assert.notEqual((await size.textContent())!.trim(), '24 80');
    await shot('container-terminal');
    await page.keyboard.type('exit\n');
    await page.getByRole('status').filter({ hasText: 'Closed' }).waitFor({ timeout: 15_000 });
  });

  test('docker stop from the CLI: the container leaves "running" within a second', async () => {
    await page.goto(`${con.origin}/#/containers`);
    await page.locator('#containers tr[data-name="web"][data-state="running"]').waitFor({ timeout: 15_000 });
    await ok(['stop', 'web']);
    const stopped = Date.now();
    await page.locator('#containers tr[data-name="web"]:not([data-state="running"])').waitFor({ timeout: 5_000 });
    const ms = Date.now() - stopped;
    assert.ok(ms <= 1000, `left "running" ${ms} ms after docker stop returned`);
  });

  test('remove from the page asks first, then the row goes', async () => {
    await page.getByRole('button', { name: 'Remove web' }).click();
    await page.locator('#containers tr[data-name="web"]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal((await d.docker(['inspect', 'web'])).code, 1);
  });

  describe('images', () => {
    let registry: Registry;
    let ref = '';
    before(async () => {
      registry = await startRegistry();
      ref = `${registry.host}/console/busybox:pulled`;
      await ok(['tag', 'busybox', ref]);
      await ok(['push', ref]);
      await ok(['rmi', ref]);
    });
    after(async () => {
      await registry?.stop();
    });

    test('a pull shows per-layer progress and the image appears', async () => {
      await page.goto(`${con.origin}/#/images`);
      await page.getByRole('heading', { name: 'Images', level: 1 }).waitFor();
      assert.equal(await page.locator(`#images tr[data-tag="${ref}"]`).count(), 0);
      await page.getByLabel('Image', { exact: true }).fill(ref);
      await page.getByRole('button', { name: 'Pull', exact: true }).click();
      await page.locator('#pull-layers li[data-layer]').first().waitFor({ timeout: 30_000 });
      await page.locator('#pull-status', { hasText: /Downloaded newer image|Image is up to date/ }).waitFor({ timeout: 60_000 });
      const bars = await page.locator('#pull-layers progress').evaluateAll((els) => els.map((e) => {
        const bar = e as unknown as { value: number; max: number };
        return [bar.value, bar.max];
      }));
      assert.ok(bars.length >= 1);
      for (const [value, max] of bars) assert.equal(value, max, 'every layer bar ends full');
      await page.locator(`#images tr[data-tag="${ref}"]`).waitFor({ timeout: 10_000 });
      await shot('images-pulled');
      await page.getByRole('button', { name: `Remove ${ref}` }).click();
      await page.locator(`#images tr[data-tag="${ref}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    });
  });

  test('volumes, networks and system pages: a volume created from the CLI shows up live; df lists the images', async () => {
    await page.goto(`${con.origin}/#/volumes`);
    await page.getByRole('heading', { name: 'Volumes', level: 1 }).waitFor();
    await ok(['volume', 'create', 'console-data']);
    await page.locator('#volumes th', { hasText: 'console-data' }).waitFor({ timeout: 5_000 });
    await ok(['volume', 'rm', 'console-data']);
    await page.locator('#volumes th', { hasText: 'console-data' }).waitFor({ state: 'detached', timeout: 5_000 });
    await page.getByRole('link', { name: 'Networks' }).click();
    await page.locator('#networks th', { hasText: /^bridge$/ }).waitFor();
    await page.getByRole('link', { name: 'System' }).click();
    const images = page.locator('#system-df tr', { has: page.locator('th', { hasText: /^Images$/ }) });
    await images.waitFor();
    assert.equal(await images.locator('td').first().textContent(), '1', 'busybox');
    await shot('system');
  });

  test('a burst of events over many rows rebuilds only the rows that changed', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `many-${i}`);
    for (const n of names) await ok(['create', '--name', n, '--network', 'none', 'busybox', 'true']);
    try {
      await page.goto(`${con.origin}/#/containers`);
      // functions, not strings: the console's CSP forbids eval, which string predicates need
      type PageGlobals = { document: { querySelectorAll(s: string): { length: number }; querySelector(s: string): unknown }; rowsAdded: number; MutationObserver: new (cb: (records: { addedNodes: { tagName?: string }[] }[]) => void) => { observe(target: unknown, o: object): void } };
      await page.waitForFunction((n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('#containers tr[data-name^="many-"]').length === n, names.length);
      // every row the table gains counts: the old page rebuilt all of them for each read
      await page.evaluate(() => {
        const w = globalThis as unknown as PageGlobals;
        w.rowsAdded = 0;
        new w.MutationObserver((records) => {
          for (const r of records) for (const n of r.addedNodes) if (n.tagName === 'TR') w.rowsAdded++;
        }).observe(w.document.querySelector('#containers tbody'), { childList: true });
      });
      const started = names.slice(0, 6);
      await Promise.all(started.map((n) => ok(['start', n])));
      for (const n of started) await page.locator(`#containers tr[data-name="${n}"][data-state="exited"]`).waitFor({ timeout: 10_000 });
      const added = await page.evaluate(() => (globalThis as unknown as PageGlobals).rowsAdded);
      // each started row changes at most twice (start, die); nothing else is touched
      assert.ok(added >= started.length && added <= 2 * started.length, `${added} rows rebuilt for ${started.length} containers that changed`);
      assert.equal(await page.locator('#containers tr[data-name^="many-"]').count(), names.length);
    } finally {
      await d.docker(['rm', '-f', ...names]);
    }
  });

  test('nothing is left behind', async () => {
    const ids = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(ids, []);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});
