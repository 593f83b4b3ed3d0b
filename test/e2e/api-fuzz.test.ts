/**
 * Fuzz: for a bounded time, random and mutated requests at every route of
 * the daemon (test/support/fuzz.ts) from several clients at once, plus
 * garbage, huge heads, bad lengths and bodies cut short. The daemon must
 * never crash, must answer or close every request that expects an answer,
 * keep its memory bounded, and leave no container, mount, shim or file
 * descriptor behind. BERTH_FUZZ_SECONDS and BERTH_FUZZ_SEED change the run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { REPO, TestDaemon } from '../support/daemon.js';
import { discoverRoutes, Gen, generate, rng, type FuzzRaw, type FuzzRequest, type Targets } from '../support/fuzz.js';

const SECONDS = Number(process.env.BERTH_FUZZ_SECONDS ?? 20);
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? Date.now() % 1_000_000);
const WORKERS = 8;
const ANSWER_DEADLINE_MS = 10_000;

interface Outcome {
  status?: number;
  closed: boolean;
  hung: boolean;
}

/** One request on its own connection: waits for the status line or a close (or gives up: a hang). */
function send(socketPath: string, req: FuzzRequest | FuzzRaw): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = connect({ path: socketPath });
    let data = '';
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const noAnswerNeeded = (req.kind === 'raw' && req.abort) || (req.kind === 'http' && req.truncate);
    const timer = setTimeout(() => finish({ closed: false, hung: !noAnswerNeeded }), noAnswerNeeded ? 300 : ANSWER_DEADLINE_MS);
    sock.on('error', () => {});
    sock.on('close', () => finish({ closed: true, hung: false }));
    sock.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      if (m) finish({ status: Number(m[1]), closed: false, hung: false });
    });
    sock.on('connect', () => {
      if (req.kind === 'raw') {
        sock.write(req.bytes);
        if (req.abort) sock.destroy();
        return;
      }
      const body = req.body ?? Buffer.alloc(0);
      let head = `${req.method} ${req.path} HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: berth-fuzz\r\n`;
      for (const [k, v] of Object.entries(req.headers)) head += `${k}: ${v}\r\n`;
      if (req.body) head += `Content-Length: ${body.length}\r\n`;
      sock.write(head + '\r\n');
      if (req.truncate) {
        sock.end(body.subarray(0, Math.floor(body.length / 2)));
        return;
      }
      if (body.length) sock.write(body);
    });
  });
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** What the daemon's file descriptors point at (socket:[n], pipe:[n], paths). */
function fds(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/\[\d+\]/, ''));
    } catch {
      // closed meanwhile
    }
  }
  return out.sort();
}

describe('API fuzz', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test(`random and mutated requests at every route for ${SECONDS} s (seed ${SEED}): no crash, no hang, bounded memory, no leak`, async () => {
    const routes = await discoverRoutes(join(REPO, 'dist/src/daemon/server/routes'));
    assert.ok(routes.length >= 20, `found ${routes.length} routes`);
    const tar = spawnSync('tar', ['-c', '-C', REPO, 'package.json', 'README.md']).stdout;
    const targets: Targets = { containerId: '', containerName: 'fuzz-target', image: 'fuzz-image:1', tar };
    // keep real objects to aim at: a stopped container and a tagged image, recreated if the fuzz removes them
    const maintain = async () => {
      const c = await d.http('GET', '/v1.47/containers/fuzz-target/json');
      if (c.status === 200) targets.containerId = (JSON.parse(c.body) as { Id: string }).Id;
      else {
        const made = await d.http('POST', '/v1.47/containers/create?name=fuzz-target', JSON.stringify({ Image: 'busybox', Cmd: ['true'] }));
        if (made.status === 201) targets.containerId = (JSON.parse(made.body) as { Id: string }).Id;
      }
      const i = await d.http('GET', '/v1.47/images/fuzz-image:1/json');
      if (i.status !== 200) await d.http('POST', '/v1.47/images/busybox/tag?repo=fuzz-image&tag=1');
    };
    await maintain();
    assert.notEqual(targets.containerId, '');

    const pid = d.pid!;
    const fdsBefore = fds(pid);
    const rssBefore = rssKiB(pid);
    let rssMax = rssBefore;
    const stats = new Map<string, Map<string, number>>();
    const hangs: string[] = [];
    let sent = 0;
    const until = Date.now() + SECONDS * 1000;
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const sampler = setInterval(() => {
      if (!alive()) return;
      rssMax = Math.max(rssMax, rssKiB(pid));
      void maintain().catch(() => {});
    }, 500);
    const worker = async (w: number) => {
      const g = new Gen(rng(SEED * 31 + w));
      while (Date.now() < until) {
        const req = generate(g, routes, targets);
        const o = await send(d.socket, req);
        sent++;
        if (o.hung) hangs.push(`${req.route}: ${req.kind === 'http' ? `${req.method} ${req.path.slice(0, 200)}` : 'raw'}`);
        const byRoute = stats.get(req.route) ?? new Map<string, number>();
        const key = o.status ? String(o.status) : o.closed ? 'closed' : 'no answer needed';
        byRoute.set(key, (byRoute.get(key) ?? 0) + 1);
        stats.set(req.route, byRoute);
      }
    };
    try {
      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    } finally {
      clearInterval(sampler);
    }
    assert.equal(alive(), true, `berthd died during the fuzz (seed ${SEED}):\n${d.logs.split('\n').slice(-40).join('\n')}`);

    const served5xx = [...stats].filter(([, s]) => [...s.keys()].some((k) => k.startsWith('5'))).map(([r]) => r);
    const failures = [...new Set([...d.logs.matchAll(/ error request failed (.*)/g)].map((m) => m[1]!.replace(/[0-9a-f]{64}/g, '<id>').slice(0, 300)))];
    process.stderr.write(`# fuzz: ${sent} requests over ${routes.length} routes, seed ${SEED}; RSS ${rssBefore >> 10} -> max ${rssMax >> 10} MiB; routes with 5xx: ${served5xx.join(', ') || 'none'}\n`);
    for (const f of failures.slice(0, 10)) process.stderr.write(`#   5xx: ${f}\n`);
    assert.deepEqual(hangs, [], 'every request got an answer or a close');
    assert.equal((await d.http('GET', '/_ping')).status, 200);
    assert.ok(rssMax - rssBefore < 400 << 10, `RSS grew by ${(rssMax - rssBefore) >> 10} MiB`);
    const untouched = routes.filter((r) => !stats.has(`${r.method} ${r.pattern}`));
    assert.ok(untouched.length <= routes.length / 10, `routes never tried: ${untouched.map((r) => r.pattern).join(', ')}`);

    // nothing left behind once the containers the fuzz made are removed
    await new Promise((r) => setTimeout(r, 1_000));
    const ids = (JSON.parse((await d.http('GET', '/v1.47/containers/json?all=1')).body) as { Id: string }[]).map((c) => c.Id);
    for (const id of ids) await d.http('DELETE', `/v1.47/containers/${id}?force=1`);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
    const fdsAfter = fds(pid);
    assert.ok(fdsAfter.length <= fdsBefore.length + 8, `file descriptors: ${fdsBefore.length} before, ${fdsAfter.length} after:\n${fdsAfter.join('\n')}`);
    assert.doesNotMatch(d.logs, /uncaught|unhandled/i);
  });
});
