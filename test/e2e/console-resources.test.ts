/**
 * The console's Volumes and Networks pages in a real browser against a
 * real berthd: create from the page (the docker CLI then sees it), a
 * resource's page lists the containers that use it, Remove asks first and
 * shows the daemon's refusal in its words (a volume in use: 409), then removes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { TestDaemon } from '../support/daemon.js';
import { launchChromium, screenshot, startConsoleProcess, type ConsoleProcess } from '../support/console.js';

/** A /24 of 10.x that no other test run is likely to pick at the same time. */
function subnet(): string {
  const r = randomBytes(2);
  return `10.${150 + (r[0]! % 40)}.${r[1]}.0/24`;
}

describe('berth console: volumes and networks', () => {
  let d: TestDaemon;
  let con: ConsoleProcess;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    con = await startConsoleProcess(d.env);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.goto(con.url);
    await page.getByRole('heading', { name: 'Containers', level: 1 }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await con?.stop();
    // what a failed test may have left: the daemon removes its containers, not these
    if (d) {
      await d.docker(['rm', '-f', 'uses-vol', 'on-net']);
      await d.docker(['volume', 'rm', '-f', 'console-vol', 'console-unused']);
      await d.docker(['network', 'rm', 'console-net']);
    }
    await d?.destroy();
  });

  const ok = async (args: string[]) => (await d.dockerOk(args, { timeoutMs: 120_000 })).trim();
  const shot = (name: string) => screenshot(page, name);

  test('a volume created in the page is in docker volume ls; its page lists the container using it; Remove refuses while in use, then removes', async () => {
    await page.getByRole('link', { name: 'Volumes' }).click();
    await page.getByRole('heading', { name: 'Volumes', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('console-vol');
    await page.getByLabel('Labels').fill('team=console');
    await page.getByRole('button', { name: 'Create volume' }).click();
    await page.locator('#volume-create-status', { hasText: 'Created volume console-vol' }).waitFor({ timeout: 10_000 });
    assert.match(await ok(['volume', 'ls', '--format', '{{.Name}}']), /^console-vol$/m);
    assert.equal(await ok(['volume', 'inspect', '-f', '{{.Labels.team}}', 'console-vol']), 'console');
    await page.locator('#volumes tr[data-volume="console-vol"]').waitFor({ timeout: 5_000 });

    await ok(['run', '-d', '--name', 'uses-vol', '-v', 'console-vol:/data', 'busybox', 'sleep', '600']);
    await page.getByRole('link', { name: 'console-vol', exact: true }).click();
    await page.getByRole('heading', { name: 'console-vol', level: 1 }).waitFor();
    await page.locator('#volume-users tr[data-name="uses-vol"]').waitFor({ timeout: 10_000 });
    assert.match((await page.locator('#volume-facts').textContent())!, /team=console/);
    await shot('volume');

    // in use: the daemon says no (409), and the page shows its words
    await page.getByRole('button', { name: 'Remove volume console-vol' }).click();
    await page.getByRole('alert').filter({ hasText: 'volume is in use' }).waitFor({ timeout: 10_000 });
    assert.match(dialogs.at(-1)!, /Remove volume console-vol\?/, 'it asked first');
    assert.equal((await d.docker(['volume', 'inspect', 'console-vol'])).code, 0, 'still there');

    await ok(['rm', '-f', 'uses-vol']);
    await page.locator('#volume-users', { hasText: 'No container uses this volume.' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Remove volume console-vol' }).click();
    await page.getByRole('heading', { name: 'Volumes', level: 1 }).waitFor({ timeout: 10_000 });
    await page.locator('#volumes tr[data-volume="console-vol"]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.doesNotMatch(await ok(['volume', 'ls', '--format', '{{.Name}}']), /^console-vol$/m);
  });

  test('Prune unused volumes asks first and removes a volume no container uses', async () => {
    await ok(['volume', 'create', 'console-unused']);
    await page.locator('#volumes tr[data-volume="console-unused"]').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Prune unused volumes' }).click();
    await page.locator('#volume-prune-status', { hasText: /Removed [1-9]\d* volumes/ }).waitFor({ timeout: 10_000 });
    assert.match(dialogs.at(-1)!, /no container uses/);
    await page.locator('#volumes tr[data-volume="console-unused"]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal((await d.docker(['volume', 'inspect', 'console-unused'])).code, 1);
  });

  test('a network created in the page with a subnet; its page lists an attached container; Remove refuses while attached, then removes', async () => {
    const net = subnet();
    const gateway = net.replace(/0\/24$/, '1');
    await page.getByRole('link', { name: 'Networks' }).click();
    await page.getByRole('heading', { name: 'Networks', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('console-net');
    await page.getByLabel('Subnet').fill(net);
    await page.getByLabel('Gateway').fill(gateway);
    await page.getByRole('button', { name: 'Create network' }).click();
    await page.locator('#network-create-status', { hasText: 'Created network console-net' }).waitFor({ timeout: 15_000 });
    assert.equal(await ok(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'console-net']), `${net} ${gateway}`);
    const row = page.locator('#networks tr[data-network="console-net"]');
    await row.waitFor({ timeout: 5_000 });
    assert.match((await row.textContent())!, new RegExp(`${net.replace(/\./g, '\\.')} via ${gateway.replace(/\./g, '\\.')}`));

    await ok(['run', '-d', '--name', 'on-net', '--network', 'console-net', 'busybox', 'sleep', '600']);
    await page.getByRole('link', { name: 'console-net', exact: true }).click();
    await page.getByRole('heading', { name: 'console-net', level: 1 }).waitFor();
    const attached = page.locator('#network-containers tr[data-name="on-net"]');
    await attached.waitFor({ timeout: 10_000 });
    assert.match((await attached.textContent())!, new RegExp(net.replace(/0\/24$/, '').replace(/\./g, '\\.')), 'its address in the subnet');
    await shot('network');

    await page.getByRole('button', { name: 'Remove network console-net' }).click();
    await page.getByRole('alert').filter({ hasText: /active endpoints|in use/ }).waitFor({ timeout: 10_000 });
    assert.equal((await d.docker(['network', 'inspect', 'console-net'])).code, 0, 'still there');

    await ok(['rm', '-f', 'on-net']);
    await page.locator('#network-containers', { hasText: 'No container is attached' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Remove network console-net' }).click();
    await page.getByRole('heading', { name: 'Networks', level: 1 }).waitFor({ timeout: 10_000 });
    await page.locator('#networks tr[data-network="console-net"]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal((await d.docker(['network', 'inspect', 'console-net'])).code, 1);
  });

  test('a predefined network cannot be removed: the daemon\'s words are shown', async () => {
    await page.getByRole('button', { name: 'Remove network bridge' }).click();
    await page.getByRole('alert').filter({ hasText: /bridge.*pre-defined network and cannot be removed/ }).waitFor({ timeout: 10_000 });
    assert.equal((await d.docker(['network', 'inspect', 'bridge'])).code, 0);
  });

  test('nothing is left behind', async () => {
    assert.deepEqual((await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean), []);
    assert.deepEqual((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean), []);
    assert.deepEqual((await ok(['network', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean).sort(), ['bridge', 'host', 'none']);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});
