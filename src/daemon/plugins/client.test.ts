import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { backoffMs, PluginBadResponse, PluginCallFailed, PluginClient, PluginUnreachable, PLUGIN_MEDIA_TYPE } from './client.js';

let dir: string;
let server: Server;
const seen: Array<{ url: string; accept: string | undefined; body: string }> = [];

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  seen.push({ url: req.url!, accept: req.headers.accept, body });
  const send = (status: number, text: string) => {
    res.writeHead(status, { 'Content-Type': PLUGIN_MEDIA_TYPE });
    res.end(text);
  };
  switch (req.url) {
    case '/Echo.Call': return send(200, JSON.stringify({ Got: JSON.parse(body) }));
    case '/Fail.Json': return send(500, '{"Err":"disk full"}\n');
    case '/Fail.Text': return send(404, '404 page not found\n');
    case '/Soft.Err': return send(200, '{"Err":"soft"}');
    case '/Garbage.Call': return send(200, '<html>');
    case '/Empty.Call': return send(200, '');
    case '/Hang.Call': return; // never answers
    default: return send(404, 'no');
  }
}

before(async () => {
  dir = mkdtempSync('/tmp/berth-unit-plugin-client-');
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => answer(req, res, body));
  });
  await new Promise<void>((r) => server.listen(join(dir, 'p.sock'), r));
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const client = (timeoutMs = 2_000, sock = 'p.sock') => PluginClient.connect({ name: 'p', addr: `unix://${join(dir, sock)}` }, { timeoutMs });

test('a call POSTs JSON to /<Method> with Docker\'s Accept type and returns the parsed answer', async () => {
  const c = await client();
  assert.deepEqual(await c.call('Echo.Call', { Name: 'v', Opts: { a: '1' } }), { Got: { Name: 'v', Opts: { a: '1' } } });
  const s = seen.find((x) => x.url === '/Echo.Call')!;
  assert.equal(s.accept, 'application/vnd.docker.plugins.v1.2+json');
  assert.equal(s.body, '{"Name":"v","Opts":{"a":"1"}}\n');
  assert.deepEqual(await c.call('Empty.Call', undefined), {});
});

test('error answers become Docker\'s "<Method>: <Err>" (or the text); garbage is a clear error', async () => {
  const c = await client();
  await assert.rejects(c.call('Fail.Json', {}), (e: Error) => e instanceof PluginCallFailed && e.message === 'Fail.Json: disk full');
  await assert.rejects(c.call('Fail.Text', {}), (e: Error) => e instanceof PluginCallFailed && e.message === 'Fail.Text: 404 page not found');
  await assert.rejects(c.call('Garbage.Call', {}), (e: Error) => e instanceof PluginBadResponse && /^Garbage.Call: invalid response from plugin p: .*"<html>"$/.test(e.message));
  // a 200 with Err is the caller's to judge (the volume proxy turns it into an error)
  assert.deepEqual(await c.call('Soft.Err', {}), { Err: 'soft' });
});

test('a plugin that does not answer fails the call at its deadline, without retrying', async () => {
  const c = await client(300);
  const t0 = Date.now();
  await assert.rejects(c.call('Hang.Call', {}), (e: Error) => e instanceof PluginUnreachable && e.message === 'Hang.Call: plugin p did not answer within 0.3s');
  const took = Date.now() - t0;
  assert.ok(took >= 290 && took < 1_500, `${took}ms`);
});

test('a plugin that is not listening yet is retried with backoff until it is (it may start after the daemon)', async () => {
  const late = createServer((_req, res) => res.end('{"Implements":["VolumeDriver"]}'));
  const c = await client(5_000, 'late.sock');
  setTimeout(() => late.listen(join(dir, 'late.sock')), 400);
  try {
    assert.deepEqual(await c.call('Plugin.Activate', undefined), { Implements: ['VolumeDriver'] });
  } finally {
    await new Promise((r) => late.close(r));
  }
});

test('an unreachable plugin fails once the retry window (bounded by the timeout) is used up', async () => {
  const waits: number[] = [];
  const c = await PluginClient.connect({ name: 'gone', addr: `unix://${join(dir, 'gone.sock')}` }, {
    timeoutMs: 60_000, retryWindowMs: 30_000, sleep: async (ms) => void waits.push(ms),
  });
  await assert.rejects(c.call('X.Y', {}), (e: Error) => e instanceof PluginUnreachable && e.message === `X.Y: dial unix ${join(dir, 'gone.sock')}: connect: no such file or directory`);
  // sleeps are faked (no time passes), so only a wait as long as the window itself ends it; with real
  // time the 16 s wait after 1+2+4+8 s would already pass 30 s, as in moby
  assert.deepEqual(waits, [1_000, 2_000, 4_000, 8_000, 16_000]);
  const c2 = await PluginClient.connect({ name: 'gone', addr: `unix://${join(dir, 'gone.sock')}` }, { timeoutMs: 60_000 });
  await assert.rejects(c2.call('X.Y', {}, { retry: false }), PluginUnreachable);
});

test('tcp:// addresses speak plain HTTP to host:port', async () => {
  const tcp = createServer((req, res) => res.end(JSON.stringify({ Path: req.url })));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  try {
    const port = (tcp.address() as { port: number }).port;
    const c = await PluginClient.connect({ name: 't', addr: `tcp://127.0.0.1:${port}` }, { timeoutMs: 2_000 });
    assert.deepEqual(await c.call('VolumeDriver.List', {}), { Path: '/VolumeDriver.List' });
  } finally {
    await new Promise((r) => tcp.close(r));
  }
});

test('backoff doubles from 1s and stops at 30s (moby\'s)', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(backoffMs), [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
});
