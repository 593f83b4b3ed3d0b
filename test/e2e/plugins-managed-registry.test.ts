/**
 * Managed plugins through a registry with the real docker CLI: `plugin push`
 * from one berthd to a berth-registry, `GET /plugins/privileges`, and
 * `plugin install --grant-all-permissions --alias NAME REF KEY=VALUE` into a
 * second berthd, which runs it as a volume driver with the setting applied.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { REPO, TestDaemon } from '../support/daemon.js';
import { freePort } from '../support/net.js';
import { pluginDirs, type PluginDirs } from '../support/plugins.js';
import { managedVolumePluginDir, VOLUME_PLUGIN_CONFIG } from '../support/managed-plugins.js';
import { waitFor } from '../support/wait.js';

const BIN = join(REPO, 'bin/berth-registry');

function v2(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('managed plugins through a registry', () => {
  let d1: TestDaemon;
  let d2: TestDaemon;
  let dirs1: PluginDirs;
  let dirs2: PluginDirs;
  let src: ReturnType<typeof managedVolumePluginDir>;
  let root: string;
  let port: number;
  let proc: ChildProcess | undefined;
  let ref = '';

  before(async () => {
    root = mkdtempSync('/tmp/berth-registry-root-');
    port = await freePort();
    proc = spawn(BIN, ['serve', '--addr', `127.0.0.1:${port}`, '--root', root, '--quiet'], { stdio: 'ignore' });
    await waitFor(async () => (await v2(port)) === 200, 10_000, 'berth-registry');
    ref = `127.0.0.1:${port}/team/tvp`;
    dirs1 = pluginDirs(10);
    dirs2 = pluginDirs(10);
    src = managedVolumePluginDir({ ...VOLUME_PLUGIN_CONFIG, Linux: { Capabilities: ['CAP_SYS_ADMIN'] } });
    d1 = await TestDaemon.start({ extraArgs: dirs1.daemonArgs });
    d2 = await TestDaemon.start({ extraArgs: dirs2.daemonArgs });
    await d2.busybox();
  });
  after(async () => {
    await d1?.docker(['plugin', 'rm', '-f', ref]);
    await d2?.docker(['plugin', 'rm', '-f', 'tvp2']);
    await d1?.destroy();
    await d2?.destroy();
    if (proc && proc.exitCode === null) {
      const gone = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    }
    dirs1?.remove();
    dirs2?.remove();
    src?.remove();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('plugin push sends the config blob and the rootfs layer to the registry', async () => {
    const c = await d1.docker(['plugin', 'create', ref, src.path]);
    assert.equal(c.code, 0, c.stderr);
    const p = await d1.docker(['plugin', 'push', ref], { timeoutMs: 120_000 });
    assert.equal(p.code, 0, p.stderr + p.stdout);
    assert.match(p.stdout, /The push refers to repository \[127\.0\.0\.1:\d+\/team\/tvp\]/);
    assert.match(p.stdout, /latest: digest: sha256:[0-9a-f]{64}/);
  });

  test('privileges come from the config; install without granting them installs nothing', async () => {
    const r = await d2.http('GET', `/plugins/privileges?remote=${encodeURIComponent(ref)}`);
    assert.equal(r.status, 200, r.body);
    // moby lists every network type but bridge and null, `none` included
    assert.deepEqual(JSON.parse(r.body), [{ Name: 'network', Description: 'permissions to access a network', Value: ['none'] }, { Name: 'capabilities', Description: 'list of additional capabilities required', Value: ['CAP_SYS_ADMIN'] }]);
    const denied = await d2.http('POST', `/plugins/pull?remote=${encodeURIComponent(ref)}&name=tvp2`, '[]');
    assert.equal(denied.status, 400);
    assert.match(denied.body, /incorrect privileges/);
    assert.equal((await d2.docker(['plugin', 'ls', '-q'])).stdout.trim(), '');
  });

  test('plugin install --grant-all-permissions --alias with KEY=VALUE runs the pulled plugin as a volume driver', async () => {
    const i = await d2.docker(['plugin', 'install', '--grant-all-permissions', '--alias', 'tvp2', ref, 'DATA=/inst'], { timeoutMs: 120_000 });
    assert.equal(i.code, 0, i.stderr + i.stdout);
    assert.match(i.stdout, /Installed plugin/);
    const [p] = JSON.parse((await d2.docker(['plugin', 'inspect', 'tvp2'])).stdout);
    assert.equal(p.Name, 'tvp2:latest');
    assert.equal(p.Enabled, true);
    assert.equal(p.PluginReference, `${ref}:latest`);
    assert.deepEqual(p.Settings.Env, ['DATA=/inst', 'FIXED=1']);
    assert.deepEqual(p.Config.Linux.Capabilities, ['CAP_SYS_ADMIN']);
    assert.equal((await d2.docker(['volume', 'create', '-d', 'tvp2', 'rv'])).code, 0);
    const r = await d2.docker(['run', '--rm', '-v', 'rv:/d', 'busybox', 'sh', '-c', 'echo pulled > /d/f']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(d2.dataRoot, 'plugins', p.Id, 'rootfs/inst/rv/f')));
    assert.equal((await d2.docker(['volume', 'rm', 'rv'])).code, 0);
  });

  test('plugin upgrade replaces a disabled plugin with a newer push, keeping its id and name', async () => {
    const v2dir = managedVolumePluginDir({ ...VOLUME_PLUGIN_CONFIG, Description: 'version two', Linux: { Capabilities: ['CAP_SYS_ADMIN'] } });
    try {
      assert.equal((await d1.docker(['plugin', 'create', `${ref}:v2`, v2dir.path])).code, 0);
      const p = await d1.docker(['plugin', 'push', `${ref}:v2`], { timeoutMs: 120_000 });
      assert.equal(p.code, 0, p.stderr);
    } finally {
      v2dir.remove();
      await d1.docker(['plugin', 'rm', '-f', `${ref}:v2`]);
    }
    const [before] = JSON.parse((await d2.docker(['plugin', 'inspect', 'tvp2'])).stdout);
    const refused = await d2.docker(['plugin', 'upgrade', '--grant-all-permissions', 'tvp2', `${ref}:v2`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /plugin must be disabled before upgrading/);
    assert.equal((await d2.docker(['plugin', 'disable', 'tvp2'])).code, 0);
    const up = await d2.docker(['plugin', 'upgrade', '--grant-all-permissions', '--skip-remote-check', 'tvp2', `${ref}:v2`], { timeoutMs: 120_000 });
    assert.equal(up.code, 0, up.stderr + up.stdout);
    const [after] = JSON.parse((await d2.docker(['plugin', 'inspect', 'tvp2'])).stdout);
    assert.equal(after.Id, before.Id);
    assert.equal(after.Name, 'tvp2:latest');
    assert.equal(after.Config.Description, 'version two', up.stdout + up.stderr);
    assert.equal(after.PluginReference, `${ref}:v2`);
    assert.equal((await d2.docker(['plugin', 'enable', 'tvp2'])).code, 0);
    assert.equal((await d2.docker(['volume', 'create', '-d', 'tvp2', 'uv'])).code, 0);
    assert.equal((await d2.docker(['volume', 'rm', 'uv'])).code, 0);
  });
});
