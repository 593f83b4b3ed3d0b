/**
 * The console's cluster page against a 2-node swarm (a manager and a
 * worker, test/support/cluster.ts): both nodes Ready and active, a service
 * with 2/2 replicas and the nodes its tasks run on; scaling it from the CLI
 * shows in the page. A service's page shows its task history (shut-down
 * tasks included) and its logs, each line named by its task. Against a node
 * that is not a manager, the page says so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { launchChromium, screenshot, startConsoleProcess, type ConsoleProcess } from '../support/console.js';

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
    await screenshot(page, 'cluster');
    await n1.dockerOk(['service', 'scale', '-d', 'web=1']);
    await web.locator('.replicas', { hasText: '1/1' }).waitFor({ timeout: 60_000 });
    await n1.dockerOk(['service', 'rm', 'web']);
    await web.waitFor({ state: 'detached', timeout: 60_000 });
  });

  test('a service\'s page: its task history, shut-down tasks included, and its logs streaming in', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'chat', '--replicas', '2', '--stop-signal', 'KILL', 'busybox',
      'sh', '-c', 'i=0; while true; do echo "svc-line-$i from $(hostname)"; i=$((i+1)); sleep 0.5; done']);
    try {
      const serviceId = (await n1.dockerOk(['service', 'inspect', '-f', '{{.ID}}', 'chat'])).trim();
      await page.goto(`${consoles[0]!.origin}/#/cluster`);
      await page.locator('#services tr[data-service="chat"] .replicas', { hasText: '2/2' }).waitFor({ timeout: 60_000 });
      await page.getByRole('link', { name: 'chat', exact: true }).click();
      await page.getByRole('heading', { name: 'chat', level: 1 }).waitFor();
      assert.equal(new URL(page.url()).hash, `#/cluster/services/${serviceId}`);
      const running = page.locator('#service-tasks tr[data-state="running"]');
      await running.nth(1).waitFor({ timeout: 30_000 });
      // a line written after the page opened, named as `docker service logs` names it
      const line = page.locator('#logs .stdout', { hasText: /^chat\.[12]\.[0-9a-z]{12}@.+ \| svc-line-\d+ from / });
      await line.first().waitFor({ timeout: 30_000 });
      await screenshot(page, 'service');
      // a forced update replaces both tasks: the old ones stay in the history, desired and ended shutdown
      await n1.dockerOk(['service', 'update', '-d', '--force', 'chat']);
      let ps: string[] = [];
      for (const until = Date.now() + 120_000; ;) {
        ps = (await n1.dockerOk(['service', 'ps', '--format', '{{.ID}} {{.DesiredState}} {{.CurrentState}}', 'chat'])).trim().split('\n');
        if (ps.filter((l) => / Shutdown Shutdown /.test(l)).length === 2 && ps.filter((l) => / Running Running /.test(l)).length === 2) break;
        assert.ok(Date.now() < until, `the forced update did not finish: ${ps.join(' | ')}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      const gone = page.locator('#service-tasks tr[data-state="shutdown"]');
      await gone.nth(1).waitFor({ timeout: 30_000 });
      for (const row of await gone.all()) assert.equal(await row.locator('td').nth(2).textContent(), 'shutdown', 'desired state');
      await running.nth(1).waitFor({ timeout: 30_000 });
      const shown = await page.locator('#service-tasks tr[data-task]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task')!.slice(0, 12)));
      assert.deepEqual(shown.sort(), ps.map((l) => l.split(' ')[0]!).sort(), 'the page lists the tasks docker service ps does');
      await screenshot(page, 'service-history');
    } finally {
      await n1.docker(['service', 'rm', 'chat']);
    }
  });

  test('on a worker the page says it is not a manager', async () => {
    await open(n2);
    await page.getByRole('status').filter({ hasText: 'This engine is not a swarm manager' }).waitFor();
  });
});
