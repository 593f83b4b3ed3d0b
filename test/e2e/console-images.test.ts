/**
 * The console's image page in a real browser against a real berthd: the
 * layers (history) with the other images sharing each one, the config, a
 * tag and a push with per-layer progress to a local registry, and a prune
 * of dangling images from the images list.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { TestDaemon } from '../support/daemon.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { launchChromium, screenshot, startConsoleProcess, type ConsoleProcess } from '../support/console.js';

describe('berth console: an image page', () => {
  let d: TestDaemon;
  let con: ConsoleProcess;
  let registry: Registry;
  let browser: Browser;
  let page: Page;
  let appId = '';

  const ok = async (args: string[]) => (await d.dockerOk(args, { timeoutMs: 120_000 })).trim();

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    registry = await startRegistry();
    con = await startConsoleProcess(d.env);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(con.url);
    // app = busybox's layer + one of its own
    await ok(['run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo made > /made.txt']);
    appId = await ok(['commit', '-c', 'CMD ["cat", "/made.txt"]', 'maker', 'console/app:v1']);
    await ok(['rm', 'maker']);
  });
  after(async () => {
    await browser?.close();
    await con?.stop();
    await registry?.stop();
    await d?.destroy();
  });

  const shot = (name: string) => screenshot(page, name);

  test('the image page lists its layers, which of them busybox shares, and its config', async () => {
    await page.goto(`${con.origin}/#/images`);
    await page.getByRole('link', { name: 'console/app:v1' }).click();
    await page.getByRole('heading', { name: 'console/app:v1', level: 1 }).waitFor();
    const rows = page.locator('#image-layers tbody tr[data-layer^="sha256:"]');
    await rows.nth(1).waitFor({ timeout: 15_000 });
    assert.equal(await rows.count(), 2, 'busybox\'s layer and the commit\'s');
    assert.equal(await rows.nth(0).getAttribute('data-shared'), 'busybox:latest');
    assert.equal(await rows.nth(1).getAttribute('data-shared'), '', 'the committed layer is its own');
    const busyboxLayers = JSON.parse(await ok(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'busybox'])) as string[];
    assert.equal(await rows.nth(0).getAttribute('data-layer'), busyboxLayers[0]);
    assert.match((await page.locator('#image-facts').textContent())!, /Commandcat \/made\.txt/);
    await shot('image-layers');
  });

  test('tag and push from the page: per-layer progress, and the registry has the tag', async () => {
    const ref = `${registry.host}/console/app:pushed`;
    await page.getByLabel('New tag').fill(ref);
    await page.getByRole('button', { name: 'Tag', exact: true }).click();
    await page.locator('#push-ref option', { hasText: ref }).waitFor({ state: 'attached', timeout: 15_000 });
    assert.equal(await ok(['image', 'inspect', '-f', '{{.Id}}', ref]), appId);
    await page.getByLabel('Tag to push').selectOption(ref);
    await page.getByRole('button', { name: 'Push', exact: true }).click();
    await page.locator('#push-status', { hasText: /digest: sha256:/ }).waitFor({ timeout: 60_000 });
    const bars = await page.locator('#push-layers progress').evaluateAll((els) => els.map((e) => {
      const bar = e as unknown as { value: number; max: number };
      return [bar.value, bar.max];
    }));
    assert.equal(bars.length, 2, 'one bar per layer');
    for (const [value, max] of bars) assert.equal(value, max, 'every layer bar ends full');
    const tags = await (await fetch(`http://${registry.host}/v2/console/app/tags/list`)).json() as { tags: string[] };
    assert.deepEqual(tags.tags, ['pushed']);
    await shot('image-pushed');
  });

  test('prune from the images page removes dangling images (after asking)', async () => {
    await ok(['run', '--name', 'dangler', 'busybox', 'touch', '/x']);
    const dangling = await ok(['commit', 'dangler']);
    await ok(['rm', 'dangler']);
    await page.goto(`${con.origin}/#/images`);
    await page.getByRole('heading', { name: 'Images', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Prune dangling images' }).click();
    await page.locator('#prune-status', { hasText: /^Removed 1 images, reclaimed / }).waitFor({ timeout: 15_000 });
    assert.equal((await d.docker(['image', 'inspect', dangling])).code, 1);
    assert.equal(await ok(['images', '-q', '--filter', 'dangling=true']), '');
    assert.equal((await d.docker(['image', 'inspect', 'console/app:v1'])).code, 0, 'tagged images stay');
  });

  test('nothing is left behind', async () => {
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});
