#!/usr/bin/env node
// berth console: time to first paint and to a full containers list with N
// containers (500); frame times while those N rows update (every container
// started at once: a start and a die event each, BURSTS times); and the
// console server's RSS while a chatty container's logs stream into an open
// page for a minute.
//
//   npm run build && node bench/console.mjs     # N=500 ROUNDS=5 BURSTS=3 LOG_SECONDS=60 (0 skips a part)
//
// A berthd of its own (test/support/daemon.ts, compiled), the real
// `berth console` as a child process (its PID's VmRSS is sampled), and
// Debian's Chromium through playwright-core. Prints one JSON document.
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { startConsoleProcess } from '../dist/test/support/console.js';
import { TestDaemon } from '../dist/test/support/daemon.js';

const N = Number(process.env.N ?? 500);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const LOG_SECONDS = Number(process.env.LOG_SECONDS ?? 60);
const BURSTS = Number(process.env.BURSTS ?? 3);
const CATCH_UP_S = Number(process.env.CATCH_UP_S ?? 90);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];


async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

/** Runs `one(i)` for i in [0, n), `width` at a time. */
async function each(n, width, one) {
  let next = 0;
  const worker = async () => {
    while (next < n) await one(next++);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

function createMany(d, n) {
  return each(n, 8, async (i) => {
    const r = await d.http('POST', `/containers/create?name=bench-${i}`, JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } }));
    if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${r.body}`);
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/**
 * Frame times while the list takes a burst of events: the first burst starts every container
 * (`true` exits at once: a `start` and a `die` event each, the row changes twice), the next ones
 * rename every container (a `rename` each; the row changes and moves). In the page, each
 * requestAnimationFrame callback's delta is a frame time, and a PerformanceObserver collects long
 * tasks (main-thread work over 50 ms). The burst ends when every row's name and state in the
 * page are the daemon's.
 */
async function burst(d, page, n, b) {
  await page.evaluate(() => {
    const w = window;
    w.benchFrames = [];
    w.benchLong = [];
    w.benchStop = false;
    w.benchObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.benchLong.push(e.duration);
    });
    w.benchObserver.observe({ type: 'longtask' });
    let last = performance.now();
    const tick = (t) => {
      w.benchFrames.push(t - last);
      last = t;
      if (!w.benchStop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const t0 = Date.now();
  // renames alternate bench-i -> bench-i-r -> bench-i
  const named = (i, k) => (k % 2 ? `bench-${i}-r` : `bench-${i}`);
  await each(n, 8, async (i) => {
    const r = b === 0 ? await d.http('POST', `/containers/bench-${i}/start`) : await d.http('POST', `/containers/${named(i, b - 1)}/rename?name=${named(i, b)}`);
    if (r.status !== 204) throw new Error(`burst ${b}, container ${i}: ${r.status} ${r.body}`);
  });
  const requestsMs = Date.now() - t0;
  // the last containers started may not have exited yet: wait, so the daemon's view below is final
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    if (JSON.parse((await d.http('GET', '/containers/json')).body).length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // caught up: the daemon's view and the page's agree on every row's status
  const want = new Map(JSON.parse((await d.http('GET', '/containers/json?all=1')).body).map((c) => [c.Names[0].slice(1), c.State]));
  // how many rows the page still shows differently from the daemon; functions, not strings, since
  // the console's CSP forbids eval (each runs in the page alone, so `done` repeats the count)
  const behind = (exp) => {
    const states = new Map([...document.querySelectorAll('#containers tr[data-name]')].map((r) => [r.dataset.name, r.dataset.state]));
    return exp.filter(([name, state]) => states.get(name) !== state).length + Math.max(0, states.size - exp.length);
  };
  const done = (exp) => {
    const states = new Map([...document.querySelectorAll('#containers tr[data-name]')].map((r) => [r.dataset.name, r.dataset.state]));
    return states.size === exp.length && exp.every(([name, state]) => states.get(name) === state);
  };
  const expected = [...want];
  // a page that never catches up is a result too: how many rows were still wrong after CATCH_UP_S
  const caughtUp = await page.waitForFunction(done, expected, { timeout: CATCH_UP_S * 1000, polling: 250 })
    .then(() => true, (err) => (err.name === 'TimeoutError' ? false : Promise.reject(err)));
  const caughtUpMs = caughtUp ? Date.now() - t0 : null;
  const rowsStillBehind = caughtUp ? 0 : await page.evaluate(behind, expected);
  const { frames, long } = await page.evaluate(() => {
    const w = window;
    w.benchStop = true;
    w.benchObserver.disconnect();
    return { frames: w.benchFrames.slice(1), long: w.benchLong };
  });
  return {
    kind: b === 0 ? 'start' : 'rename', requestsMs, caughtUpMs, rowsStillBehind,
    frames: frames.length,
    frameMs: { p50: pct(frames, 50), p95: pct(frames, 95), p99: pct(frames, 99), max: Math.max(...frames) },
    framesOver50ms: frames.filter((f) => f > 50).length,
    longTasks: { count: long.length, totalMs: long.reduce((a, b) => a + b, 0), maxMs: long.length ? Math.max(...long) : 0 },
  };
}

async function loadAvg() {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).map(Number);
}

const d = await TestDaemon.start();
let con;
let browser;
try {
  await d.busybox();
  const t0 = Date.now();
  await createMany(d, N);
  const createdMs = Date.now() - t0;
  con = await startConsoleProcess(d.env);
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

  const bursts = [];
  for (let b = 0; b < BURSTS; b++) {
    const load = await loadAvg();
    bursts.push({ loadAvg: load, ...(await burst(d, page, N, b)) });
  }

  await d.http('POST', '/containers/prune');
  let logs;
  if (LOG_SECONDS > 0) {
    const chat = await d.http('POST', '/containers/create?name=chatty', JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'i=0; while true; do echo "chatty line $i: the quick brown fox jumps over the lazy dog"; i=$((i+1)); [ $((i % 100)) = 0 ] && usleep 10000; done'], HostConfig: { NetworkMode: 'none' } }));
    if (chat.status !== 201) throw new Error(chat.body);
    await d.http('POST', '/containers/chatty/start');
    await page.goto(`${con.origin}/#/containers/chatty`);
    await page.locator('#logs .stdout').first().waitFor({ timeout: 30_000 });
    const samples = [];
    const start = Date.now();
    while (Date.now() - start < LOG_SECONDS * 1000) {
      samples.push(await rssKiB(con.pid));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const linesShown = await page.locator('#logs .line').count();
    await d.http('DELETE', '/containers/chatty?force=1');
    logs = {
      seconds: LOG_SECONDS,
      consoleRssMiB: { first: samples[0] / 1024, max: Math.max(...samples) / 1024, last: samples.at(-1) / 1024 },
      linesShownInPage: linesShown,
    };
  }

  console.log(JSON.stringify({
    containers: N,
    createSeconds: createdMs / 1000,
    rounds,
    median: {
      firstPaintMs: median(rounds.map((r) => r.firstPaintMs)),
      firstContentfulPaintMs: median(rounds.map((r) => r.firstContentfulPaintMs)),
      fullListMs: median(rounds.map((r) => r.fullListMs)),
    },
    bursts,
    logs,
  }, null, 2));
} finally {
  await browser?.close();
  await con?.stop();
  await d.destroy();
}
