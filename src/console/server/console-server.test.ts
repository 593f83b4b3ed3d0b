import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { EngineClient } from '../../client/engine-client.js';
import { startConsole } from './console-server.js';

/** An Engine client that records what reaches "the daemon" and answers 201 `{}`. */
function fakeClient(calls: string[]): EngineClient {
  return {
    version: '1.47',
    raw: async (method: string, url: string) => {
      calls.push(`${method} ${url}`);
      return Object.assign(Readable.from([Buffer.from('{}')]), { statusCode: 201, headers: { 'content-type': 'application/json' } }) as unknown as IncomingMessage;
    },
  } as unknown as EngineClient;
}

function send(port: number, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('volume and network changes through the proxy need the same origin; the daemon never sees a refused one', async () => {
  const calls: string[] = [];
  const c = await startConsole({ client: fakeClient(calls), host: '127.0.0.1', port: 0, assetsDir: '/nonexistent' });
  try {
    const token = new URL(c.url).search;
    const login = await send(c.port, 'GET', `/${token}`, { Host: `127.0.0.1:${c.port}` });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const routes: [string, string][] = [
      ['POST', '/volumes/create'], ['DELETE', '/volumes/data'], ['POST', '/volumes/prune'],
      ['POST', '/networks/create'], ['DELETE', '/networks/front'], ['POST', '/networks/prune'],
    ];
    for (const [method, path] of routes) {
      const foreign = await send(c.port, method, `/api${path}`, { Host: `127.0.0.1:${c.port}`, Cookie: cookie, Origin: 'http://evil.example' });
      assert.equal(foreign.status, 403, `${method} ${path} from another origin`);
      assert.equal(JSON.parse(foreign.body).message, 'cross-origin request refused');
      const noOrigin = await send(c.port, method, `/api${path}`, { Host: `127.0.0.1:${c.port}`, Cookie: cookie, 'Sec-Fetch-Site': 'cross-site' });
      assert.equal(noOrigin.status, 403, `${method} ${path} without an Origin, cross-site`);
    }
    assert.deepEqual(calls, [], 'nothing refused reached the daemon');
    for (const [method, path] of routes) {
      const same = await send(c.port, method, `/api${path}`, { Host: `127.0.0.1:${c.port}`, Cookie: cookie, Origin: `http://127.0.0.1:${c.port}` });
      assert.equal(same.status, 201, `${method} ${path} from the console's own page`);
    }
    assert.deepEqual(calls, routes.map(([m, p]) => `${m} /v1.47${p}`));
  } finally {
    await c.close();
  }
});
