#!/usr/bin/env node
// The two console screenshots in the README, from a real run: a berthd of
// its own (test/support/daemon.ts, compiled) with a few containers, the real
// `berth console`, and Debian's Chromium through playwright-core at a laptop
// viewport (1280x800). Writes docs/img/console-containers.png and
// docs/img/console-container.png; the daemon and its containers are removed after.
//
//   npm run build && node scripts/console-screenshots.mjs
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startConsoleProcess } from '../dist/test/support/console.js';
import { REPO, TestDaemon } from '../dist/test/support/daemon.js';

const OUT = join(REPO, 'docs/img');


async function docker(d, args) {
  const r = await d.docker(args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
}

const d = await TestDaemon.start();
let con;
let browser;
try {
  await d.busybox();
  await docker(d, ['volume', 'create', 'web-data']);
  // the loop lives in a file on the volume, so the page shows a short command
  const loop = 'trap "exit 0" TERM; i=0; while true; do echo "GET /index.html 200 $((i*37 % 900 + 100))b"; [ $((i % 5)) = 0 ] && echo "slow request: /report took $((i % 7 + 1))s" >&2; i=$((i+1)); sleep 0.3; done';
  await docker(d, ['run', '--rm', '-v', 'web-data:/srv', '-e', `LOOP=${loop}`, 'busybox', 'sh', '-c', 'printf "%s\\n" "$LOOP" > /srv/serve.sh']);
  await docker(d, ['run', '-d', '--name', 'web', '-p', '8080:80', '-v', 'web-data:/srv', 'busybox', 'sh', '/srv/serve.sh']);
  await docker(d, ['run', '-d', '--name', 'worker', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']);
  await docker(d, ['run', '-d', '--name', 'cache', 'busybox', 'sleep', '3600']);
  await docker(d, ['pause', 'cache']);
  await docker(d, ['run', '--name', 'migrate', 'busybox', 'sh', '-c', 'echo migrated; exit 3']).catch(() => {});
  await docker(d, ['create', '--name', 'backup', 'busybox', 'tar', 'cf', '/dev/null', '/srv']);

  con = await startConsoleProcess(d.env);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  // light colours whatever the machine prefers, so the README reads the same everywhere
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })).newPage();
  await page.goto(con.url);
  await page.locator('#containers tr[data-name="web"][data-state="running"]').waitFor();
  await page.locator('#containers tr[data-name="cache"][data-state="paused"]').waitFor();
  await page.screenshot({ path: join(OUT, 'console-containers.png') });

  await page.getByRole('link', { name: 'web', exact: true }).click();
  await page.getByRole('heading', { name: 'web', level: 1 }).waitFor();
  await page.locator('#logs .stderr').first().waitFor();
  await new Promise((r) => setTimeout(r, 3000));
  await page.screenshot({ path: join(OUT, 'console-container.png') });
  console.log(`wrote ${join(OUT, 'console-containers.png')} and ${join(OUT, 'console-container.png')}`);
} finally {
  await browser?.close();
  await con?.stop();
  await d.docker(['rm', '-f', 'web', 'worker', 'cache', 'migrate', 'backup']).catch(() => {});
  await d.docker(['volume', 'rm', 'web-data']).catch(() => {});
  await d.destroy();
}
