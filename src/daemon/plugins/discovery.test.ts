import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';
import { isPluginName, parseJsonSpec, parseSpecFile, PluginLocator } from './discovery.js';

test('.spec files: one URL, whitespace ignored; unix, tcp and https accepted, the rest refused', () => {
  assert.deepEqual(parseSpecFile('a', '  unix:///run/a.sock\n'), { name: 'a', addr: 'unix:///run/a.sock', tls: { insecureSkipVerify: true } });
  assert.equal(parseSpecFile('b', 'tcp://127.0.0.1:8080').addr, 'tcp://127.0.0.1:8080');
  assert.equal(parseSpecFile('c', 'https://plugins.example:443').addr, 'https://plugins.example:443');
  assert.throws(() => parseSpecFile('d', ''), (e: Error) => e instanceof InvalidParameter && /Unknown protocol/.test(e.message));
  assert.throws(() => parseSpecFile('e', '/run/e.sock'), /Unknown protocol/);
  assert.throws(() => parseSpecFile('f', 'ftp://host:21'), /unsupported protocol: "ftp"/);
  assert.throws(() => parseSpecFile('g', 'tcp://host'), /incomplete address/);
});

test('.json files: Docker\'s Plugin struct; the file names the plugin, no CA means no verification', () => {
  const s = parseJsonSpec('x', JSON.stringify({ Name: 'other', Addr: 'https://p:9000', TLSConfig: { CAFile: '/ca.pem', CertFile: '/c.pem', KeyFile: '/k.pem' } }));
  assert.deepEqual(s, { name: 'x', addr: 'https://p:9000', tls: { insecureSkipVerify: false, caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' } });
  assert.deepEqual(parseJsonSpec('y', JSON.stringify({ Addr: 'https://p:9000', TLSConfig: {} })).tls, { insecureSkipVerify: true });
  assert.deepEqual(parseJsonSpec('z', JSON.stringify({ Addr: 'tcp://p:9000' })), { name: 'z', addr: 'tcp://p:9000' });
  assert.throws(() => parseJsonSpec('w', '{"Addr":'), /invalid JSON spec/);
  assert.throws(() => parseJsonSpec('v', '{}'), /has no "Addr"/);
});

test('plugin names cannot leave the plugin directories', () => {
  for (const bad of ['', '.', '..', '../etc', 'a/b', '.hidden', 'a\0b']) assert.equal(isPluginName(bad), false, bad);
  for (const good of ['myvol', 'my-vol_2', 'vendor.plugin:1']) assert.equal(isPluginName(good), true, good);
});

let root: string;
const servers: Server[] = [];
const listen = (path: string) => new Promise<void>((r) => {
  const s = createServer();
  servers.push(s);
  s.listen(path, () => r());
});

before(async () => {
  root = mkdtempSync('/tmp/berth-unit-plugins-');
  for (const d of ['run', 'run/nested', 'etc', 'lib', 'etc/deep']) mkdirSync(join(root, d), { recursive: true });
  await listen(join(root, 'run/flat.sock'));
  await listen(join(root, 'run/nested/nested.sock'));
  // a socket wins over a spec file of the same name
  writeFileSync(join(root, 'etc/flat.spec'), 'tcp://127.0.0.1:1');
  writeFileSync(join(root, 'etc/tcpone.spec'), 'tcp://127.0.0.1:7777\n');
  writeFileSync(join(root, 'etc/deep/deep.json'), JSON.stringify({ Addr: 'unix:///somewhere/deep.sock' }));
  // the first spec directory wins
  writeFileSync(join(root, 'lib/tcpone.spec'), 'tcp://127.0.0.1:8888');
  writeFileSync(join(root, 'lib/late.json'), JSON.stringify({ Addr: 'tcp://10.0.0.1:80' }));
  writeFileSync(join(root, 'run/notasocket.sock'), '');
});
after(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(root, { recursive: true, force: true });
});

test('the locator looks in the socket directory first, then each spec directory in order', async () => {
  const l = new PluginLocator({ socketDir: join(root, 'run'), specDirs: [join(root, 'etc'), join(root, 'lib')] });
  assert.equal((await l.find('flat'))?.addr, `unix://${join(root, 'run/flat.sock')}`);
  assert.equal((await l.find('nested'))?.addr, `unix://${join(root, 'run/nested/nested.sock')}`);
  assert.equal((await l.find('tcpone'))?.addr, 'tcp://127.0.0.1:7777');
  assert.equal((await l.find('deep'))?.addr, 'unix:///somewhere/deep.sock');
  assert.equal((await l.find('late'))?.addr, 'tcp://10.0.0.1:80');
  assert.equal(await l.find('notasocket'), undefined, 'a regular file named .sock is not a plugin');
  assert.equal(await l.find('missing'), undefined);
  assert.equal(await l.find('../run/flat'), undefined);
  assert.deepEqual(await l.scan(), ['deep', 'flat', 'late', 'nested', 'notasocket', 'tcpone']);
});
