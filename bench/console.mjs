#!/usr/bin/env node
// berth console: time to first paint and to a full containers list with N
// containers (500), and the console server's RSS while a chatty
// container's logs stream into an open page for a minute.
//
//   npm run build && node bench/console.mjs            # N=500 ROUNDS=5 LOG_SECONDS=60
//
// A berthd of its own (test/support/daemon.ts, compiled), the real
// `berth console` as a child process (its PID's VmRSS is sampled), and
// Debian's Chromium through playwright-core. Prints one JSON document.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { BERTH, TestDaemon } from '../dist/test/support/daemon.js';

const N = Number(process.env.N ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const LOG_SECONDS = Number(process.env.LOG_SECONDS ?? 60);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function startConsole(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(BERTH, ['console', '--listen', '127.0.0.1:0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/[^\s/]+)\/\?token=[0-9a-f]+/.exec(out);
      if (m) resolve({ child, url: m[0], origin: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`berth console exited ${code}`)));
  });
}

async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

async function createMany(d, n) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = await d.http('POST', `/containers/create?name=bench-${i}`, JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } }));
      if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${r.body}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

const d = await TestDaemon.start();
let con;
let browser;
try {
  await d.busybox();
  const t0 = Date.now();
  await createMany(d, N);
  const createdMs = Date.now() - t0;
  con = await startConsole(d.env);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 860 } })).newPage();
  await page.goto(con.url);
  await page.locator('#containers').waitFor();

  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    await page.goto('about:blank');
    await page.goto(`${con.origin}/#/containers`);
    const full = await page.waitForFunction((n) => document.querySelectorAll('#containers tr[data-name]').length >= n && performance.now(), N, { timeout: 120_000, polling: 'raf' });
    const fullMs = await full.jsonValue();
    const paints = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime])));
    rounds.push({ firstPaintMs: paints['first-paint'], firstContentfulPaintMs: paints['first-contentful-paint'], fullListMs: fullMs });
  }

  await d.http('POST', '/containers/prune');
  const chat = await d.http('POST', '/containers/create?name=chatty', JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'i=0; while true; do echo "chatty line $i: the quick brown fox jumps over the lazy dog"; i=$((i+1)); [ $((i % 100)) = 0 ] && usleep 10000; done'], HostConfig: { NetworkMode: 'none' } }));
  if (chat.status !== 201) throw new Error(chat.body);
  await d.http('POST', '/containers/chatty/start');
  await page.goto(`${con.origin}/#/containers/chatty`);
  await page.locator('#logs .stdout').first().waitFor({ timeout: 30_000 });
  const samples = [];
  const start = Date.now();
  while (Date.now() - start < LOG_SECONDS * 1000) {
    samples.push(await rssKiB(con.child.pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const linesShown = await page.locator('#logs .line').count();
  await d.http('DELETE', '/containers/chatty?force=1');

  console.log(JSON.stringify({
    containers: N,
    createSeconds: createdMs / 1000,
    rounds,
    median: {
      firstPaintMs: median(rounds.map((r) => r.firstPaintMs)),
      firstContentfulPaintMs: median(rounds.map((r) => r.firstContentfulPaintMs)),
      fullListMs: median(rounds.map((r) => r.fullListMs)),
    },
    logs: {
      seconds: LOG_SECONDS,
      consoleRssMiB: { first: samples[0] / 1024, max: Math.max(...samples) / 1024, last: samples.at(-1) / 1024 },
      linesShownInPage: linesShown,
    },
  }, null, 2));
} finally {
  await browser?.close();
  if (con) {
    con.child.kill('SIGTERM');
  }
  await d.destroy();
}
