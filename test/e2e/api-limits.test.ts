/**
 * Request limits: oversized heads and JSON bodies are refused, slow clients
 * are cut off while they send a request (never while they read a long
 * answer: events, logs -f, attach, wait, a slow upload), connections are
 * capped, and 200 concurrent clients are all served promptly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { rawExchange } from '../support/net.js';

const HEADERS_TIMEOUT_S = 2;
const BODY_TIMEOUT_S = 2;
const MAX_JSON = 64 << 10;
const MAX_CONNECTIONS = 260;

describe('API request limits', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({
      extraArgs: ['--api-headers-timeout', String(HEADERS_TIMEOUT_S), '--api-body-timeout', String(BODY_TIMEOUT_S),
        '--api-max-json-body', String(MAX_JSON), '--api-max-header-size', String(16 << 10), '--api-max-connections', String(MAX_CONNECTIONS)],
    });
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  const ping = async () => (await d.http('GET', '/_ping')).status;

  test('a request head over the limit gets 431, and the daemon goes on', async () => {
    const r = await rawExchange(d.socket, [`GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    assert.equal(r.statusLine, 'HTTP/1.1 431 Request Header Fields Too Large');
    const junk = await rawExchange(d.socket, ['\x00\x01GARBAGE / NOTHTTP\r\n\r\n']);
    assert.equal(junk.statusLine, 'HTTP/1.1 400 Bad Request');
    assert.equal(await ping(), 200);
  });

  test('a JSON body over the limit: 400, and the connection is closed instead of draining the rest', async () => {
    const big = JSON.stringify({ Image: 'busybox', Labels: { pad: 'x'.repeat(MAX_JSON) } });
    const r = await d.http('POST', '/v1.47/containers/create', big);
    assert.equal(r.status, 400);
    assert.equal((JSON.parse(r.body) as { message: string }).message, `request body exceeds ${MAX_JSON} bytes`);
    // declared huge, sent in part: answered at once and closed, the rest is never read
    const partial = await rawExchange(d.socket, [`POST /v1.47/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 << 20}\r\n\r\n{"Image":`], { untilClose: true, deadlineMs: 5_000 });
    assert.match(partial.statusLine ?? '', / 400 /);
    assert.equal(partial.closed, true);
    assert.match(partial.data, /Connection: close/i);
    assert.equal((await d.http('GET', '/v1.47/containers/json?all=1')).body.trim(), '[]', 'nothing was created');
  });

  test('slow clients are cut off while sending headers or a JSON body; others are served meanwhile', async () => {
    const trickledHead = rawExchange(d.socket, ['GET /_ping HTTP/1.1\r\n', ...Array.from({ length: 20 }, (_, i) => `X-Slow-${i}: 1\r\n`)], { gapMs: 400, deadlineMs: 9_000, untilClose: true });
    const trickledBody = rawExchange(d.socket, ['POST /v1.47/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n', ...'{"Image":"busybox","Cmd":["true"]}'.split('')], { gapMs: 400, deadlineMs: 9_000, untilClose: true });
    const meanwhile: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      assert.equal(await ping(), 200);
      meanwhile.push(Date.now() - t);
      await new Promise((r) => setTimeout(r, 200));
    }
    const [head, body] = await Promise.all([trickledHead, trickledBody]);
    assert.equal(head.closed, true, 'the slow head was cut');
    assert.ok(head.ms < 7_000, `cut after ${head.ms} ms`);
    assert.match(head.statusLine ?? 'HTTP/1.1 408', / 408 /);
    assert.equal(body.closed, true, 'the slow JSON body was cut');
    assert.ok(body.ms >= BODY_TIMEOUT_S * 1000 - 100 && body.ms < 7_000, `cut after ${body.ms} ms`);
    assert.equal(body.statusLine, undefined, 'no container was created from half a body');
    assert.ok(Math.max(...meanwhile) < 1_000, `pings meanwhile: ${meanwhile.join(', ')} ms`);
  });

  test('long answers are never cut: events, logs -f, attach, wait and a slow upload outlive every timeout', async () => {
    const quiet = (HEADERS_TIMEOUT_S + BODY_TIMEOUT_S) * 1000 + 1_000; // longer than both timeouts
    const events = new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: d.socket, path: '/v1.47/events?filters=' + encodeURIComponent('{"type":["container"],"event":["create"]}') }, (res) => {
        res.on('data', (c: Buffer) => {
          resolve(c.toString());
          req.destroy();
        });
      });
      req.on('error', reject);
      req.end();
    });
    const trigger = new Promise((r) => setTimeout(r, quiet)).then(() => d.http('POST', '/v1.47/containers/create?name=late-event', JSON.stringify({ Image: 'busybox', Cmd: ['true'] })));
    const secs = quiet / 1000;
    const logs = (async () => {
      const run = await d.docker(['run', '-d', 'busybox', 'sh', '-c', `sleep ${secs}; echo late line`]);
      return d.docker(['logs', '-f', run.stdout.trim()]);
    })();
    const attach = d.docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', `sleep ${secs}; cat`], { input: 'stdin after a quiet spell\n' });
    const wait = (async () => {
      const run = await d.docker(['run', '-d', 'busybox', 'sh', '-c', `sleep ${secs}; exit 7`]);
      return d.docker(['wait', run.stdout.trim()]);
    })();
    const upload = slowImport(d.socket, quiet);
    const [ev, , lg, at, wt, up] = await Promise.all([events, trigger, logs, attach, wait, upload]);
    assert.match(ev, /"Action":"create"/);
    assert.equal(lg.stdout, 'late line\n', lg.stderr);
    assert.equal(at.stdout, 'stdin after a quiet spell\n', at.stderr);
    assert.equal(wt.stdout.trim(), '7', wt.stderr);
    assert.equal(up.status, 200);
    assert.match(up.body, /"status":"sha256:[0-9a-f]{64}"/);
  });

  test('200 concurrent clients are all answered, and a ping is answered meanwhile', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    const get = (path: string) => new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: d.socket, path, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    const until = Date.now() + 3_000;
    const statuses = new Map<number, number>();
    let done = 0;
    const perClient = new Array<number>(200).fill(0);
    const client = async (i: number) => {
      while (Date.now() < until) {
        const s = await get(i % 2 ? '/v1.47/containers/json?all=1' : '/_ping');
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        done++;
        perClient[i]!++;
      }
    };
    const pings: number[] = [];
    const prober = (async () => {
      while (Date.now() < until) {
        const t = Date.now();
        assert.equal(await ping(), 200);
        pings.push(Date.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await Promise.all([...Array.from({ length: 200 }, (_, i) => client(i)), prober]);
    agent.destroy();
    assert.deepEqual([...statuses.keys()], [200], `statuses: ${JSON.stringify([...statuses])}`);
    pings.sort((a, b) => a - b);
    const p50 = pings[Math.floor(pings.length / 2)]!;
    process.stderr.write(`# 200 clients: ${done} requests in 3 s; side ping p50 ${p50} ms, max ${pings.at(-1)} ms\n`);
    // counts, not speeds: the figures above are for reading; a loaded machine must not fail the suite
    assert.ok(perClient.every((n) => n > 0), `clients never answered: ${perClient.filter((n) => n === 0).length}`);
    assert.ok(pings.length > 0, 'the side ping was answered');
  });

  test('clients that leave in the middle of long answers (save, export, logs, events) or of uploads (import, load) do not take the daemon down', async () => {
    const run = await d.docker(['run', '-d', 'busybox', 'sh', '-c', 'while true; do echo spam; done']);
    const id = run.stdout.trim();
    const leaveEarly = (path: string) => new Promise<void>((resolve) => {
      const req = request({ socketPath: d.socket, path }, (res) => {
        res.once('data', () => {
          req.destroy(); // after the first bytes, while the daemon still has plenty to send
          resolve();
        });
        res.once('end', () => resolve());
        res.once('close', () => resolve());
      });
      req.on('error', () => resolve());
      req.end();
    });
    for (let i = 0; i < 3; i++) {
      await Promise.all([
        leaveEarly('/v1.47/images/get?names=busybox'),
        leaveEarly('/v1.47/images/busybox/get'),
        leaveEarly(`/v1.47/containers/${id}/export`),
        leaveEarly(`/v1.47/containers/${id}/logs?stdout=1&follow=1`),
        leaveEarly('/v1.47/events?since=0'),
      ]);
    }
    // uploads cut short: an import and a load whose client goes away mid-body
    const tar = spawnSync('docker', ['save', 'busybox'], { env: { ...process.env, DOCKER_HOST: d.host }, maxBuffer: 64 << 20 }).stdout;
    assert.ok(tar.length > 100_000);
    for (const path of ['/v1.47/images/create?fromSrc=-&repo=cut-import', '/v1.47/images/load?quiet=1']) {
      for (const cut of [100, 700, 5000, tar.length >> 1]) {
        await rawExchange(d.socket, [`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\nContent-Length: ${tar.length}\r\n\r\n`, tar.subarray(0, cut)], { deadlineMs: 300, gapMs: 50 });
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await ping(), 200, 'berthd is still up');
    assert.equal((await d.docker(['rm', '-f', id])).code, 0);
    assert.doesNotMatch((await d.docker(['images', '--format', '{{.Repository}}'])).stdout, /cut-import/, 'no image from a cut upload');
  });

  test('connections over the limit are closed at once; the daemon stays responsive', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    await Promise.all(Array.from({ length: MAX_CONNECTIONS + 20 }, () => new Promise<void>((resolve) => {
      const s = connect({ path: d.socket });
      s.on('close', () => closed++);
      s.on('error', () => {});
      s.once('connect', () => resolve());
      s.once('error', () => resolve());
      sockets.push(s);
    })));
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(closed >= 20, `${closed} of ${sockets.length} connections were closed`);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await ping(), 200);
  });
});

/** POST /images/create?fromSrc=- with a tar trickled over `ms`: a stream upload, not a slow JSON body. */
function slowImport(socketPath: string, ms: number): Promise<{ status: number; body: string }> {
  const dir = mkdtempSync('/tmp/berth-slow-import-');
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  const tar = spawnSync('tar', ['-c', '-C', dir, 'hello.txt']).stdout;
  rmSync(dir, { recursive: true });
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path: '/v1.47/images/create?fromSrc=-&repo=slow-import&tag=1', headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const pieces = 8;
    const size = Math.ceil(tar.length / pieces);
    let i = 0;
    const next = () => {
      if (i === pieces) return void req.end();
      req.write(tar.subarray(i * size, (i + 1) * size));
      i++;
      setTimeout(next, ms / pieces);
    };
    next();
  });
}
