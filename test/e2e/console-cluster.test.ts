/**
 * The console's cluster page against a 2-node swarm (a manager and a
 * worker, test/support/cluster.ts): both nodes Ready and active, a service
 * with 2/2 replicas and the nodes its tasks run on; scaling it from the CLI
 * shows in the page. Against a node that is not a manager, the page says so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { launchChromium, SCREENSHOTS, startConsoleProcess, type ConsoleProcess } from '../support/console.js';

describe('berth console: cluster view', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  const consoles: ConsoleProcess[] = [];
  let browser: Browser;
  let page: Page;

  before(async () => {
    c = await TestCluster.start(2, { busybox: true });
    [n1, n2] = c.nodes as [TestNode, TestNode];
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    await n2.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 860 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    for (const con of consoles) await con.stop();
    await c?.destroy();
  });

  const open = async (n: TestNode) => {
    const con = await startConsoleProcess(n.daemon.env);
    consoles.push(con);
    await page.goto(con.url);
    await page.getByRole('link', { name: 'Cluster' }).click();
    await page.getByRole('heading', { name: 'Cluster', level: 1 }).waitFor();
    return con;
  };

  test('nodes, and a service with its replicas and where they run; a scale from the CLI shows', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'web', '--replicas', '2', '--stop-signal', 'KILL', 'busybox', 'sleep', '3600']);
    await open(n1);
    const ids = (await n1.dockerOk(['node', 'ls', '--format', '{{.ID}}'])).trim().split('\n');
    assert.equal(ids.length, 2);
    for (const id of ids) {
      const row = page.locator(`#nodes tr[data-node="${id}"]`);
      await row.waitFor();
      assert.deepEqual((await row.locator('td').allTextContents()).slice(0, 2), ['ready', 'active']);
    }
    const web = page.locator('#services tr[data-service="web"]');
    await web.locator('.replicas', { hasText: '2/2' }).waitFor({ timeout: 60_000 });
    const runningOn = (await web.locator('td').nth(2).textContent())!;
    // both nodes share the hostname "vm" here, so each is shown with its ID
    for (const id of ids) assert.match(runningOn, new RegExp(`\\(${id.slice(0, 12)}\\) ×1`), `one task on each node: ${runningOn}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster.png'), fullPage: true });
    await n1.dockerOk(['service', 'scale', '-d', 'web=1']);
    await web.locator('.replicas', { hasText: '1/1' }).waitFor({ timeout: 60_000 });
    await n1.dockerOk(['service', 'rm', 'web']);
    await web.waitFor({ state: 'detached', timeout: 60_000 });
  });

  test('on a worker the page says it is not a manager', async () => {
    await open(n2);
    await page.getByRole('status').filter({ hasText: 'This engine is not a swarm manager' }).waitFor();
  });
});
