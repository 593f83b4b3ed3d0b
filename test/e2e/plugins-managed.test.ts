/**
 * Managed plugins through the real docker CLI: `plugin create` from a
 * directory, enable, a volume of its driver used by a container (the data
 * lands in the plugin's own root), in-use refusals, set, supervision after
 * kill -9, enabled plugins coming back with berthd, and rm -f leaving
 * nothing behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { pluginDirs, type PluginDirs } from '../support/plugins.js';
import { managedVolumePluginDir, pluginPids, VOLUME_PLUGIN_CONFIG } from '../support/managed-plugins.js';
import { tarOf } from '../support/archives.js';
import { request } from 'node:http';

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('managed plugins', () => {
  let d: TestDaemon;
  let dirs: PluginDirs;
  let src: ReturnType<typeof managedVolumePluginDir>;
  let id = '';
  const rootfs = () => join(d.dataRoot, 'plugins', id, 'rootfs');

  before(async () => {
    dirs = pluginDirs(10);
    src = managedVolumePluginDir();
    d = await TestDaemon.start({ extraArgs: dirs.daemonArgs, dataRoot: undefined });
    await d.busybox();
  });
  after(async () => {
    await d?.docker(['plugin', 'rm', '-f', 'tvp']);
    await d?.destroy();
    dirs?.remove();
    src?.remove();
  });

  test('plugin create makes a disabled plugin that ls and inspect show as Docker does', async () => {
    const c = await d.docker(['plugin', 'create', 'tvp', src.path]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout.trim(), 'tvp');
    const ls = await d.docker(['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}} {{.Description}}']);
    assert.equal(ls.stdout.trim(), 'tvp:latest false a test volume plugin');
    const [p] = JSON.parse((await d.docker(['plugin', 'inspect', 'tvp'])).stdout);
    id = p.Id;
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(p.Name, 'tvp:latest');
    assert.equal(p.Enabled, false);
    assert.deepEqual(p.Settings.Env, ['DATA=/data', 'FIXED=1']);
    assert.deepEqual(p.Config.Interface.Types, ['docker.volumedriver/1.0']);
    assert.ok(existsSync(join(rootfs(), 'volplug')));
    const again = await d.docker(['plugin', 'create', 'tvp', src.path]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /plugin tvp:latest already exists/);
    const disabledUse = await d.docker(['volume', 'create', '-d', 'tvp', 'nope']);
    assert.notEqual(disabledUse.code, 0);
    assert.match(disabledUse.stderr, /plugin tvp:latest found but disabled/);
  });

  test('an enabled plugin serves docker volume create -d, and a container writes into its storage', async () => {
    const e = await d.docker(['plugin', 'enable', 'tvp']);
    assert.equal(e.code, 0, e.stderr + d.logs.slice(-3000));
    assert.equal(e.stdout.trim(), 'tvp');
    assert.equal((await d.docker(['plugin', 'ls', '--format', '{{.Enabled}}'])).stdout.trim(), 'true');
    const v = await d.docker(['volume', 'create', '-d', 'tvp', 'mv1']);
    assert.equal(v.code, 0, v.stderr);
    const r = await d.docker(['run', '--rm', '-v', 'mv1:/d', 'busybox', 'sh', '-c', 'echo hi > /d/f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(rootfs(), 'data/mv1/f'), 'utf8'), 'hi\n');
    const [vol] = JSON.parse((await d.docker(['volume', 'inspect', 'mv1'])).stdout);
    // Docker names the driver by the plugin's full name
    assert.equal(vol.Driver, 'tvp:latest');
    assert.equal(vol.Mountpoint, join(rootfs(), 'data/mv1'));
    const ls = await d.docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
    assert.match(ls.stdout, /^tvp:latest mv1$/m);
  });

  test('disable and rm are refused while a volume of the plugin exists; set while enabled is refused', async () => {
    const dis = await d.docker(['plugin', 'disable', 'tvp']);
    assert.notEqual(dis.code, 0);
    assert.match(dis.stderr, /plugin tvp:latest is in use/);
    const rm = await d.docker(['plugin', 'rm', 'tvp']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /plugin tvp:latest is in use/);
    const set = await d.docker(['plugin', 'set', 'tvp', 'DATA=/store']);
    assert.notEqual(set.code, 0);
    assert.match(set.stderr, /cannot set on an active plugin, disable plugin before setting/);
    const en = await d.docker(['plugin', 'enable', 'tvp']);
    assert.notEqual(en.code, 0);
    assert.match(en.stderr, /plugin already enabled/);
  });

  test('a plugin killed with SIGKILL is started again and keeps serving its volumes', async () => {
    const pid = await until('the plugin process', () => pluginPids(id)[0]);
    process.kill(pid!, 'SIGKILL');
    const next = await until('a new plugin process', () => pluginPids(id).find((p) => p !== pid));
    assert.notEqual(next, pid);
    const r = await until('the volume to mount again', async () => {
      const x = await d.docker(['run', '--rm', '-v', 'mv1:/d', 'busybox', 'cat', '/d/f']);
      return x.code === 0 ? x : undefined;
    });
    assert.equal(r.stdout, 'hi\n');
  });

  test('an enabled plugin is running again after berthd restarts', async () => {
    await d.restart();
    assert.equal((await d.docker(['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}'])).stdout.trim(), 'tvp:latest true');
    const r = await d.docker(['run', '--rm', '-v', 'mv1:/d', 'busybox', 'cat', '/d/f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(pluginPids(id).length, 1);
  });

  test('plugin set changes settable env on a disabled plugin, with Docker errors for the others', async () => {
    assert.equal((await d.docker(['volume', 'rm', 'mv1'])).code, 0);
    assert.ok(!existsSync(join(rootfs(), 'data/mv1')), 'VolumeDriver.Remove reached the plugin');
    const dis = await d.docker(['plugin', 'disable', 'tvp']);
    assert.equal(dis.code, 0, dis.stderr);
    assert.deepEqual(pluginPids(id), []);
    const fixed = await d.docker(['plugin', 'set', 'tvp', 'FIXED=2']);
    assert.match(fixed.stderr, /"FIXED" is not settable/);
    const unknown = await d.docker(['plugin', 'set', 'tvp', 'NOPE=1']);
    assert.match(unknown.stderr, /setting "NOPE" not found in the plugin configuration/);
    const set = await d.docker(['plugin', 'set', 'tvp', 'DATA=/store']);
    assert.equal(set.code, 0, set.stderr);
    const [p] = JSON.parse((await d.docker(['plugin', 'inspect', 'tvp'])).stdout);
    assert.deepEqual(p.Settings.Env, ['DATA=/store', 'FIXED=1']);
    assert.equal((await d.docker(['plugin', 'enable', 'tvp'])).code, 0);
    assert.equal((await d.docker(['volume', 'create', '-d', 'tvp', 'mv2'])).code, 0);
    assert.equal((await d.docker(['run', '--rm', '-v', 'mv2:/d', 'busybox', 'touch', '/d/g'])).code, 0);
    assert.ok(existsSync(join(rootfs(), 'store/mv2/g')));
  });

  test('plugin rm -f removes an enabled plugin in use, and leaves no process, shim or socket behind', async () => {
    const rm = await d.docker(['plugin', 'rm', '-f', 'tvp']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await d.docker(['plugin', 'ls', '-q'])).stdout.trim(), '');
    assert.ok(!existsSync(join(d.dataRoot, 'plugins', id)));
    assert.ok(!existsSync(join(dirs.sockets, id)));
    assert.deepEqual(d.leftovers().shims, []);
    const insp = await d.docker(['plugin', 'inspect', 'tvp']);
    assert.match(insp.stderr, /plugin "tvp" not found|No such plugin/);
    // the volume's record outlives its plugin, as in Docker; removing it now fails in the driver lookup
    await d.docker(['volume', 'rm', '-f', 'mv2']);
  });

  const postTar = (query: string, body: Buffer) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path: `/v1.47/plugins/create?${query}`, headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });

  test('a hostile create tar is refused and leaves nothing behind: names climbing out, writes through symlinks, bad configs', async () => {
    const config = JSON.stringify(VOLUME_PLUGIN_CONFIG);
    const cases: [string, Parameters<typeof tarOf>[0], RegExp][] = [
      ['climb', [{ name: 'config.json', body: config }, { name: 'rootfs/' }, { name: '../../../../tmp/berth-plugin-escape', body: 'x' }], /escapes the layer root/],
      ['symlink', [{ name: 'config.json', body: config }, { name: 'rootfs', type: 'symlink', linkname: '/tmp' }, { name: 'rootfs/berth-plugin-escape', body: 'x' }], /entry reached through a symlink/],
      ['badsock', [{ name: 'config.json', body: JSON.stringify({ ...VOLUME_PLUGIN_CONFIG, Interface: { Types: ['docker.volumedriver/1.0'], Socket: '../../x.sock' } }) }, { name: 'rootfs/' }], /must be a file name/],
      ['noconfig', [{ name: 'rootfs/' }], /no config.json found/],
      ['norootfs', [{ name: 'config.json', body: config }], /no rootfs found/],
    ];
    for (const [name, entries, msg] of cases) {
      const r = await postTar(`name=${name}`, await tarOf(entries));
      assert.equal(r.status, 400, `${name}: ${r.body}`);
      assert.match(JSON.parse(r.body).message, msg, name);
    }
    assert.ok(!existsSync('/tmp/berth-plugin-escape'));
    assert.equal((await d.docker(['plugin', 'ls', '-q'])).stdout.trim(), '');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'plugins', 'tmp')), []);
  });

  test('a plugin that cannot start fails enable, stays disabled and leaves no task behind', async () => {
    const bad = managedVolumePluginDir({ ...VOLUME_PLUGIN_CONFIG, Entrypoint: ['/missing'] });
    try {
      assert.equal((await d.docker(['plugin', 'create', 'badp', bad.path])).code, 0);
      const e = await d.docker(['plugin', 'enable', '--timeout', '5', 'badp']);
      assert.notEqual(e.code, 0);
      assert.match(e.stderr, /missing|no such file/i);
      assert.equal((await d.docker(['plugin', 'inspect', '-f', '{{.Enabled}}', 'badp'])).stdout.trim(), 'false');
      assert.deepEqual(d.leftovers().shims, []);
      assert.equal((await d.docker(['plugin', 'rm', 'badp'])).code, 0);
    } finally {
      bad.remove();
    }
  });

  test('berth plugin create, ls, enable, inspect, disable and rm speak the same API', async () => {
    const c = await d.berth(['plugin', 'create', 'bvp', src.path]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout.trim(), 'bvp');
    const ls = await d.berth(['plugin', 'ls']);
    assert.match(ls.stdout, /^ID\s+NAME\s+DESCRIPTION\s+ENABLED$/m);
    assert.match(ls.stdout, /^[0-9a-f]{12}\s+bvp:latest\s+a test volume plugin\s+false$/m);
    assert.equal((await d.berth(['plugin', 'set', 'bvp', 'DATA=/b'])).code, 0);
    assert.equal((await d.berth(['plugin', 'enable', 'bvp'])).stdout.trim(), 'bvp');
    assert.equal((await d.berth(['plugin', 'inspect', '-f', '{{.Enabled}} {{.Settings.Env}}', 'bvp'])).stdout.trim(), 'true [DATA=/b FIXED=1]');
    const bad = await d.berth(['plugin', 'rm', 'bvp']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /plugin bvp:latest is enabled/);
    assert.equal((await d.berth(['plugin', 'disable', 'bvp'])).code, 0);
    assert.equal((await d.berth(['plugin', 'rm', 'bvp'])).stdout.trim(), 'bvp');
    assert.equal((await d.docker(['plugin', 'ls', '-q'])).stdout.trim(), '');
  });
});

describe('managed plugins with --live-restore', () => {
  let d: TestDaemon;
  let dirs: PluginDirs;
  let src: ReturnType<typeof managedVolumePluginDir>;

  before(async () => {
    dirs = pluginDirs(10);
    src = managedVolumePluginDir();
    d = await TestDaemon.start({ extraArgs: [...dirs.daemonArgs, '--live-restore'] });
    await d.busybox();
  });
  after(async () => {
    await d?.docker(['plugin', 'rm', '-f', 'lvp']);
    await d?.destroy();
    dirs?.remove();
    src?.remove();
  });

  test('a running plugin outlives a berthd restart and is adopted, not started again', async () => {
    assert.equal((await d.docker(['plugin', 'create', 'lvp', src.path])).code, 0);
    assert.equal((await d.docker(['plugin', 'enable', 'lvp'])).code, 0);
    const [p] = JSON.parse((await d.docker(['plugin', 'inspect', 'lvp'])).stdout);
    const before = await until('the plugin process', () => pluginPids(p.Id)[0]);
    await d.restart();
    assert.deepEqual(pluginPids(p.Id), [before]);
    assert.equal((await d.docker(['volume', 'create', '-d', 'lvp', 'lv'])).code, 0);
    const r = await d.docker(['run', '--rm', '-v', 'lv:/d', 'busybox', 'sh', '-c', 'echo kept > /d/f && cat /d/f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'kept\n');
    assert.deepEqual(pluginPids(p.Id), [before]);
    assert.equal((await d.docker(['plugin', 'rm', '-f', 'lvp'])).code, 0);
    assert.deepEqual(pluginPids(p.Id), []);
    assert.deepEqual(d.leftovers().shims, []);
    await d.docker(['volume', 'rm', '-f', 'lv']);
  });
});

describe('managed plugins with a PropagatedMount', () => {
  let d: TestDaemon;
  let dirs: PluginDirs;
  let src: ReturnType<typeof managedVolumePluginDir>;

  before(async () => {
    dirs = pluginDirs(10);
    src = managedVolumePluginDir({
      ...VOLUME_PLUGIN_CONFIG, PropagatedMount: '/data', Linux: { Capabilities: ['CAP_SYS_ADMIN'] },
      Env: [...VOLUME_PLUGIN_CONFIG.Env, { Name: 'TMPFS', Value: '1' }],
    });
    d = await TestDaemon.start({ extraArgs: dirs.daemonArgs });
    await d.busybox();
  });
  after(async () => {
    await d?.docker(['plugin', 'rm', '-f', 'pvp']);
    await d?.destroy();
    dirs?.remove();
    src?.remove();
  });

  test('a mount the plugin makes under its PropagatedMount is what containers get, and nothing stays mounted after rm', async () => {
    assert.equal((await d.docker(['plugin', 'create', 'pvp', src.path])).code, 0);
    const e = await d.docker(['plugin', 'enable', 'pvp']);
    assert.equal(e.code, 0, e.stderr);
    const [p] = JSON.parse((await d.docker(['plugin', 'inspect', 'pvp'])).stdout);
    const propagated = join(d.dataRoot, 'plugins', p.Id, 'propagated-mount');
    const c = await d.docker(['volume', 'create', '-d', 'pvp', 'pv']);
    assert.equal(c.code, 0, c.stderr);
    const [vol] = JSON.parse((await d.docker(['volume', 'inspect', 'pv'])).stdout);
    assert.equal(vol.Mountpoint, join(propagated, 'pv'));
    // the plugin's tmpfs reached the host through the shared mount
    assert.match(readFileSync('/proc/self/mounts', 'utf8'), new RegExp(`^tmpfs ${propagated}/pv tmpfs`, 'm'));
    const r = await d.docker(['run', '--rm', '-v', 'pv:/d', 'busybox', 'sh', '-c', 'echo prop > /d/f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(propagated, 'pv/f'), 'utf8'), 'prop\n');
    assert.ok(!existsSync(join(d.dataRoot, 'plugins', p.Id, 'rootfs/data/pv/f')), 'the data is in the tmpfs, not under the rootfs');
    assert.equal((await d.docker(['plugin', 'rm', '-f', 'pvp'])).code, 0);
    assert.doesNotMatch(readFileSync('/proc/self/mounts', 'utf8'), new RegExp(p.Id));
    assert.deepEqual(d.leftovers().mounts, []);
    await d.docker(['volume', 'rm', '-f', 'pv']);
  });
});
