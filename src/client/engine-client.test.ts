import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { CommandConn } from './command-conn.js';
import { EngineClient } from './engine-client.js';

test('a request on a pooled connection the daemon dropped as idle is sent again on a fresh one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-client-'));
  const path = join(dir, 'd.sock');
  const served = new WeakMap<Socket, number>();
  // the daemon's side of the race: a kept-alive connection closes just as the next request arrives
  const server: Server = createServer((req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1) return req.socket.destroy();
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ n }));
  });
  await new Promise<void>((r) => server.listen(path, r));
  const c = new EngineClient(`unix://${path}`);
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await c.json('POST', '/containers/x/start'), { n: 1 });
  } finally {
    c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  }
});

test('a command connection whose program ends closes as a socket does (an Agent then drops it)', async () => {
  const conn = new CommandConn('sh', ['-c', 'echo hi']);
  const chunks: Buffer[] = [];
  conn.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((r) => conn.once('close', r));
  assert.equal(Buffer.concat(chunks).toString(), 'hi\n');
  assert.equal(conn.destroyed, true);
});
