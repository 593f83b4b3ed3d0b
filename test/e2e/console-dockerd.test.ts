/**
 * The console against a real dockerd (Debian's docker.io on its own socket
 * and data root): it is a client of the public Engine API only, so the same
 * smoke test passes: the page loads, lists a container the docker CLI
 * started, and its logs stream in.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runProgram, TestDaemon } from '../support/daemon.js';
import { startDockerd, type Dockerd } from '../support/dockerd.js';
import { launchChromium, screenshot, startConsoleProcess, type ConsoleProcess } from '../support/console.js';

describe('berth console against a real dockerd', () => {
  let dd: Dockerd;
  let con: ConsoleProcess;
  let browser: Browser;
  let page: Page;

  const docker = async (args: string[]) => {
    const r = await runProgram('docker', args, dd.env, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  before(async () => {
    dd = await startDockerd();
    // busybox from a berthd (no network here): docker save there, docker load into dockerd
    const d = await TestDaemon.start();
    const dir = mkdtempSync(join(tmpdir(), 'berth-busybox-'));
    try {
      await d.busybox();
      const saved = await d.docker(['save', '-o', join(dir, 'busybox.tar'), 'busybox']);
      assert.equal(saved.code, 0, saved.stderr);
      await docker(['load', '-i', join(dir, 'busybox.tar')]);
    } finally {
      await d.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
    con = await startConsoleProcess(dd.env);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 860 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    await con?.stop();
    if (dd) {
      await runProgram('docker', ['rm', '-f', 'chatty'], dd.env);
      await runProgram('docker', ['volume', 'rm', '-f', 'console-dd-vol'], dd.env);
      await dd.stop();
    }
  });

  test('the page loads, lists a container the docker CLI started, and its logs stream', async () => {
    await page.goto(con.url);
    await page.getByRole('heading', { name: 'Containers', level: 1 }).waitFor();
    await page.locator('#engine', { hasText: /^Engine 20\.10\./ }).waitFor({ timeout: 10_000 });
    await docker(['run', '-d', '--name', 'chatty', '--network', 'none', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done']);
    // the list is live (events), not read again by a reload
    await page.locator('#containers tr[data-name="chatty"][data-state="running"]').waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'chatty', exact: true }).click();
    await page.getByRole('heading', { name: 'chatty', level: 1 }).waitFor();
    const last = Number(/tick-(\d+)/.exec((await runProgram('docker', ['logs', '--tail', '1', 'chatty'], dd.env)).stdout)?.[1] ?? 0);
    await page.locator('#logs .stdout', { hasText: `tick-${last + 5}` }).waitFor({ timeout: 15_000 });
    await screenshot(page, 'dockerd-logs');
    await docker(['rm', '-f', 'chatty']);
  });

  test('volumes against dockerd: created in the page, pruned from the page (API 1.41 has no all filter)', async () => {
    await page.getByRole('link', { name: 'Volumes' }).click();
    await page.getByRole('heading', { name: 'Volumes', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('console-dd-vol');
    await page.getByRole('button', { name: 'Create volume' }).click();
    await page.locator('#volumes tr[data-volume="console-dd-vol"]').waitFor({ timeout: 10_000 });
    assert.match(await docker(['volume', 'ls', '--format', '{{.Name}}']), /^console-dd-vol$/m);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Prune unused volumes' }).click();
    await page.locator('#volume-prune-status', { hasText: /Removed [1-9]\d* volumes/ }).waitFor({ timeout: 10_000 });
    assert.doesNotMatch(await docker(['volume', 'ls', '--format', '{{.Name}}']), /^console-dd-vol$/m);
  });
});
