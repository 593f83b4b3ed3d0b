/**
 * The console's container page beyond logs and the terminal, in a real
 * browser against a real berthd: live stats charts, processes (`top`) and
 * the files tab (browse, download) through the archive API, which the
 * console server reads itself so its proxy never forwards the archive.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { TestDaemon } from '../support/daemon.js';
import { consoleHttp, launchChromium, screenshot, startConsoleProcess, type ConsoleProcess } from '../support/console.js';

describe('berth console: a container page', () => {
  let d: TestDaemon;
  let con: ConsoleProcess;
  let browser: Browser;
  let page: Page;
  let cookie = '';

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    con = await startConsoleProcess(d.env);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    await page.goto(con.url);
    const c = (await context.cookies()).find((x) => x.name === 'berth_console');
    assert.ok(c);
    cookie = `${c.name}=${c.value}`;
    // a busy loop (capped at half a CPU on this loaded machine) so the CPU chart has something to show
    const r = await d.docker(['run', '-d', '--name', 'busy', '--cpus', '0.5', 'busybox', 'sh', '-c',
      'mkdir -p /data/sub && echo hello-file > /data/greeting.txt && while true; do :; done'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await browser?.close();
    await con?.stop();
    await d?.docker(['rm', '-f', 'busy', 'chatty']);
    await d?.destroy();
  });

  const shot = (name: string) => screenshot(page, name);

  test('the stats tab draws live CPU, memory, network and block I/O charts', async () => {
    await page.goto(`${con.origin}/#/containers/busy`);
    await page.getByRole('heading', { name: 'busy', level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Stats' }).click();
    // three samples means the stream is live, not one answer
    await page.locator('#stats-cpu[data-samples="3"]').waitFor({ timeout: 30_000 });
    const last = async (id: string) => (await page.locator(`#${id}`).getAttribute('data-last'))!.split(',').map(Number);
    const [cpu] = await last('stats-cpu');
    assert.ok(cpu! > 5 && cpu! < 100, `a busy loop capped at half a CPU shows ${cpu}% CPU`);
    const [mem] = await last('stats-memory');
    assert.ok(mem! > 0, 'memory in use');
    assert.equal((await last('stats-network')).length, 2);
    assert.equal((await last('stats-blockio')).length, 2);
    const points = await page.locator('#stats-cpu polyline').getAttribute('points');
    assert.ok(points!.split(' ').length >= 3, points!);
    assert.match((await page.locator('#stats-cpu').getAttribute('aria-label'))!, /^CPU: \d+\.\d %$/);
    await shot('container-stats');
  });

  test('the processes tab lists the container\'s processes', async () => {
    await page.getByRole('tab', { name: 'Processes' }).click();
    const row = page.locator('#processes tbody tr', { hasText: 'while true' });
    await row.first().waitFor({ timeout: 15_000 });
    assert.ok((await page.locator('#processes thead th').allTextContents()).includes('PID'));
  });

  test('the files tab browses directories and downloads a file', async () => {
    await page.getByRole('tab', { name: 'Files' }).click();
    await page.locator('#files tr[data-name="etc"][data-type="dir"]').waitFor({ timeout: 15_000 });
    await page.getByLabel('Path').fill('/data');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.locator('#files tr[data-name="greeting.txt"][data-type="file"]').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#files tr[data-name="greeting.txt"] td.num').textContent(), '11 B');
    await page.getByRole('link', { name: 'sub/' }).click();
    await page.getByRole('status').filter({ hasText: '0 entries in /data/sub' }).waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: '../' }).click();
    await page.locator('#files tr[data-name="greeting.txt"]').waitFor({ timeout: 15_000 });
    await shot('container-files');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download greeting.txt' }).click()]);
    assert.equal(download.suggestedFilename(), 'greeting.txt');
    assert.equal(await readFile((await download.path())!, 'utf8'), 'hello-file\n');
  });

  test('files: a missing path is a 404 with the daemon\'s message; the proxy still refuses the raw archive', async () => {
    const missing = await consoleHttp(con.origin, 'GET', '/files?container=busy&path=/nope', { Cookie: cookie });
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).message, /nope/);
    const dir = await consoleHttp(con.origin, 'GET', '/files/download?container=busy&path=/data', { Cookie: cookie });
    assert.equal(dir.status, 400);
    assert.equal(JSON.parse(dir.body).message, '/data is not a regular file');
    const raw = await consoleHttp(con.origin, 'GET', '/api/containers/busy/archive?path=/etc', { Cookie: cookie });
    assert.equal(raw.status, 403);
    const noCookie = await consoleHttp(con.origin, 'GET', '/files?container=busy&path=/');
    assert.equal(noCookie.status, 401);
  });

  test('a chatty container\'s logs stream in without freezing the page', async () => {
    const r = await d.docker(['run', '-d', '--name', 'chatty', '--network', 'none', 'busybox', 'sh', '-c',
      'i=0; while true; do echo "chatty line $i"; i=$((i+1)); [ $((i % 100)) = 0 ] && usleep 10000; done'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    try {
      await page.goto(`${con.origin}/#/containers/chatty`);
      await page.getByRole('heading', { name: 'chatty', level: 1 }).waitFor();
      await page.locator('#logs .stdout').first().waitFor({ timeout: 15_000 });
      // the page still answers while thousands of lines a second arrive
      const started = Date.now();
      await page.getByLabel('Search').fill('line 1');
      assert.ok(Date.now() - started < 5_000, `typing in the search box took ${Date.now() - started} ms`);
      assert.ok(await page.locator('#logs .line').count() <= 5000, 'the page keeps at most 5000 lines');
    } finally {
      await d.docker(['rm', '-f', 'chatty']);
    }
  });

  test('nothing is left behind', async () => {
    assert.equal((await d.docker(['rm', '-f', 'busy'])).code, 0);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});
