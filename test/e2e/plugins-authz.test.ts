/**
 * Authorization plugins (--authorization-plugin) with the real docker CLI:
 * every request and answer goes to the plugin, a refusal is Docker's 403,
 * a plugin that cannot be asked refuses everything (fail closed), and a
 * missing plugin keeps berthd from starting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTHD, runProgram, TestDaemon } from '../support/daemon.js';
import { pluginDirs, startPlugin, type PluginDirs, type RunningPlugin } from '../support/plugins.js';

interface Seen {
  call: string;
  method: string;
  uri: string;
  body: string | null;
  status?: number;
  headers: Record<string, string>;
  responseBody: string | null;
}

describe('authorization plugins', () => {
  let d: TestDaemon;
  let dirs: PluginDirs;
  let plugin: RunningPlugin;
  let log: string;
  const seen = (): Seen[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Seen) : []);

  before(async () => {
    dirs = pluginDirs(3);
    log = join(dirs.root, 'authz.jsonl');
    plugin = await startPlugin('authz-plugin.mjs', dirs.sockets, 'authz1', [log]);
    d = await TestDaemon.start({ extraArgs: [...dirs.daemonArgs, '--authorization-plugin', 'authz1'] });
  });
  after(async () => {
    await d?.destroy();
    await plugin?.stop();
    dirs?.remove();
  });

  test('requests the plugin allows are carried out; it sees method, URI, headers, JSON bodies and the answers', async () => {
    const c = await d.docker(['volume', 'create', '--label', 'team=a', 'allowed']);
    assert.equal(c.code, 0, c.stderr);
    const req = seen().find((s) => s.call === 'AuthZPlugin.AuthZReq' && s.uri.endsWith('/volumes/create'))!;
    assert.equal(req.method, 'POST');
    assert.match(req.uri, /^\/v1\.\d+\/volumes\/create$/);
    assert.deepEqual(JSON.parse(req.body!).Labels, { team: 'a' });
    assert.match(req.headers['User-Agent']!, /^Docker-Client\//);
    assert.equal(req.headers['Content-Type'], 'application/json');
    assert.equal((await d.docker(['info', '--format', '{{json .Plugins.Authorization}}'])).stdout.trim(), '["authz1"]');
    const res = seen().find((s) => s.call === 'AuthZPlugin.AuthZRes' && s.uri.endsWith('/volumes/create'))!;
    assert.equal(res.status, 201);
    assert.equal(JSON.parse(res.responseBody!).Name, 'allowed');
  });

  test('a refusal is 403 "authorization denied by plugin NAME: MSG" and nothing happens', async () => {
    const rm = await d.docker(['volume', 'rm', 'allowed']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /Error response from daemon: authorization denied by plugin authz1: volumes stay/);
    const api = await d.http('DELETE', '/volumes/allowed');
    assert.equal(api.status, 403);
    assert.deepEqual(JSON.parse(api.body), { message: 'authorization denied by plugin authz1: volumes stay' });
    assert.equal((await d.docker(['volume', 'inspect', '-f', '{{.Name}}', 'allowed'])).stdout.trim(), 'allowed');

    // the decision can rest on the body
    const named = await d.docker(['volume', 'create', 'forbidden-name']);
    assert.match(named.stderr, /authorization denied by plugin authz1: that name is reserved/);
    assert.doesNotMatch((await d.docker(['volume', 'ls', '-q'])).stdout, /forbidden-name/);
    // credentials never reach the plugin
    await d.http('GET', '/info', undefined, { 'X-Registry-Auth': 'c2VjcmV0', Authorization: 'Bearer secret' });
    for (const s of seen()) {
      assert.equal(s.headers['X-Registry-Auth'], undefined);
      assert.equal(s.headers.Authorization, undefined);
    }
  });

  test('a plugin that cannot be asked refuses everything (fail closed)', async () => {
    await plugin.crash();
    const started = Date.now();
    const ps = await d.docker(['volume', 'ls']);
    assert.equal(ps.code, 1);
    assert.match(ps.stderr, /plugin authz1 failed with error: AuthZPlugin.AuthZReq: dial unix .*authz1.sock: connect: connection refused/);
    assert.ok(Date.now() - started < 15_000);
    const api = await d.http('DELETE', '/volumes/allowed');
    assert.equal(api.status, 500);
    // the plugin comes back: requests are asked about again
    plugin = await startPlugin('authz-plugin.mjs', dirs.sockets, 'authz1', [log]);
    assert.equal((await d.docker(['volume', 'ls', '-q'])).stdout.trim(), 'allowed');
    assert.match((await d.docker(['volume', 'rm', 'allowed'])).stderr, /authorization denied by plugin authz1/);
  });

  test('berthd does not start when an authorization plugin is missing', async () => {
    const tmp = mkdtempSync('/tmp/berth-e2e-authz-missing-');
    writeFileSync(join(tmp, 'none.json'), '{}');
    try {
      const r = await runProgram(BERTHD, ['-H', `unix://${join(tmp, 'b.sock')}`, '--data-root', join(tmp, 'data'), '--exec-root', join(tmp, 'exec'),
        '--config-file', join(tmp, 'none.json'), '--plugin-socket-dir', dirs.sockets, '--plugin-spec-dir', dirs.specs, '--plugin-timeout', '2',
        '--authorization-plugin', 'nosuch', '--bridge', 'btauthzx'], {}, { timeoutMs: 30_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /failed to validate authorization plugin: plugin "nosuch" not found/);
      assert.equal(existsSync(join(tmp, 'b.sock')), false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
