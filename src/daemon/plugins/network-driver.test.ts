import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { PluginClient } from './client.js';
import { IpamDriverProxy, NetworkDriverProxy } from './network-driver.js';

let dir: string;
let server: Server;
let answers: Record<string, [number, unknown]> = {};
const seen: Array<{ url: string; body: unknown }> = [];

before(async () => {
  dir = mkdtempSync('/tmp/berth-unit-netplugin-');
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url!, body: body ? JSON.parse(body) : undefined });
      const [status, doc] = answers[req.url!] ?? [404, 'no'];
      res.writeHead(status);
      res.end(typeof doc === 'string' ? doc : JSON.stringify(doc));
    });
  });
  await new Promise<void>((r) => server.listen(join(dir, 'p.sock'), r));
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const client = () => PluginClient.connect({ name: 'tp', addr: `unix://${join(dir, 'p.sock')}` }, { timeoutMs: 2000, retryWindowMs: 0 });

test('network driver: capabilities are checked, ConnectivityScope defaults to Scope, Err becomes "remote: …"', async () => {
  const d = new NetworkDriverProxy(await client());
  answers = { '/NetworkDriver.GetCapabilities': [200, { Scope: 'global' }] };
  assert.deepEqual(await d.capabilities(), { scope: 'global', connectivityScope: 'global' });
  answers = { '/NetworkDriver.GetCapabilities': [200, { Scope: 'weird' }] };
  await assert.rejects(d.capabilities(), /remote: invalid capability: expecting 'local' or 'global', got weird/);
  answers = { '/NetworkDriver.Join': [200, { Err: 'no room' }] };
  await assert.rejects(d.join('n', 'e', '/run/x', {}), { message: 'remote: no room' });
  answers = { '/NetworkDriver.Leave': [500, { Err: 'gone' }] };
  await assert.rejects(d.leave('n', 'e'), { message: 'NetworkDriver.Leave: gone' });
  answers = { '/NetworkDriver.CreateEndpoint': [200, { Interface: { MacAddress: '02:00:00:00:00:01' } }] };
  seen.length = 0;
  assert.deepEqual(await d.createEndpoint('n', 'e', { Address: '10.0.0.2/24', MacAddress: '' }, {}), { MacAddress: '02:00:00:00:00:01' });
  assert.deepEqual(seen[0]!.body, { NetworkID: 'n', EndpointID: 'e', Interface: { Address: '10.0.0.2/24', MacAddress: '' }, Options: {} });
});

test('IPAM driver: its error field is Error, not Err; an answer without an address is an error', async () => {
  const d = new IpamDriverProxy(await client());
  answers = { '/IpamDriver.RequestPool': [200, { Error: 'pool exhausted' }] };
  await assert.rejects(d.requestPool({ AddressSpace: 's', Pool: '', SubPool: '', Options: {} }), { message: 'remote: pool exhausted' });
  answers = { '/IpamDriver.RequestPool': [200, { PoolID: 'p1', Pool: '10.1.0.0/16' }] };
  seen.length = 0;
  assert.deepEqual(await d.requestPool({ AddressSpace: 's', Pool: '', SubPool: '', Options: { a: 'b' } }), { poolId: 'p1', pool: '10.1.0.0/16', data: {} });
  assert.deepEqual(seen[0]!.body, { AddressSpace: 's', Pool: '', SubPool: '', Options: { a: 'b' }, V6: false });
  answers = { '/IpamDriver.RequestAddress': [200, {}] };
  await assert.rejects(d.requestAddress('p1', '', {}), /No address returned/);
  answers = { '/IpamDriver.RequestAddress': [200, { Address: '10.1.0.5/16' }] };
  assert.equal(await d.requestAddress('p1', '', {}), '10.1.0.5/16');
});
