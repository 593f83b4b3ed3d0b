/**
 * Legacy volume plugins through the real docker CLI against a real berthd:
 * discovery by socket and by spec file, the VolumeDriver calls behind
 * `volume create/inspect/ls/rm`, `run -v --volume-driver` and `--mount
 * volume-driver=`, Mount/Unmount paired by mount id across containers, and
 * what users see when a plugin fails, hangs, crashes or answers garbage.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { pluginCalls, pluginDirs, startPlugin, type PluginDirs, type RunningPlugin } from '../support/plugins.js';

describe('volume plugins', () => {
  let d: TestDaemon;
  let dirs: PluginDirs;
  let state: string;
  const running: RunningPlugin[] = [];
  const start = async (name: string, args: string[] = [], dir?: string) => {
    const s = join(state, name);
    mkdirSync(s, { recursive: true });
    const p = await startPlugin('volume-plugin.mjs', dir ?? dirs.sockets, name, [s, ...args]);
    running.push(p);
    return { plugin: p, state: s };
  };

  before(async () => {
    dirs = pluginDirs(3);
    state = mkdtempSync('/tmp/berth-e2e-plugin-state-');
    d = await TestDaemon.start({ extraArgs: dirs.daemonArgs });
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
    for (const p of running) await p.stop();
    dirs?.remove();
    rmSync(state, { recursive: true, force: true });
  });

  test('volume create, inspect, ls and rm go to the plugin found by its socket', async () => {
    const { state: s } = await start('tvol', ['--scope', 'global']);
    const c = await d.docker(['volume', 'create', '-d', 'tvol', '-o', 'size=1G', 'pv1']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout.trim(), 'pv1');
    const calls = pluginCalls(s);
    assert.equal(calls[0]!.method, 'Plugin.Activate');
    assert.equal(calls[0]!.body.accept, 'application/vnd.docker.plugins.v1.2+json');
    assert.deepEqual(calls.find((x) => x.method === 'VolumeDriver.Create')!.body, { Name: 'pv1', Opts: { size: '1G' }, accept: 'application/vnd.docker.plugins.v1.2+json' });

    assert.match((await d.docker(['info', '--format', '{{json .Plugins.Volume}}'])).stdout.trim(), /^\["local",.*"tvol".*\]$/);
    const [v] = JSON.parse((await d.docker(['volume', 'inspect', 'pv1'])).stdout);
    assert.equal(v.Driver, 'tvol');
    assert.equal(v.Mountpoint, join(s, 'volumes/pv1'));
    assert.equal(v.Scope, 'global');
    assert.deepEqual(v.Status, { mounts: 0, opts: { size: '1G' } });

    // a volume the plugin has but the daemon never created is listed too (Docker asks List)
    mkdirSync(join(s, 'volumes/made-elsewhere'));
    const ls = await d.docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
    assert.match(ls.stdout, /^tvol pv1$/m);
    assert.match(ls.stdout, /^tvol made-elsewhere$/m);
    const filtered = await d.docker(['volume', 'ls', '-q', '--filter', 'driver=tvol']);
    assert.deepEqual(filtered.stdout.trim().split('\n').sort(), ['made-elsewhere', 'pv1']);

    const rm = await d.docker(['volume', 'rm', 'pv1']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(pluginCalls(s).some((x) => x.method === 'VolumeDriver.Remove' && x.body.Name === 'pv1'));
    assert.equal(existsSync(join(s, 'volumes/pv1')), false);
    assert.match((await d.docker(['volume', 'inspect', 'pv1'])).stderr, /no such volume/);
    assert.equal(existsSync(join(d.dataRoot, 'volumes/pv1')), false);
  });

  test('run -v with --volume-driver mounts through the plugin; Mount and Unmount pair up per container', async () => {
    const { state: s } = await start('runvol');
    const once = await d.docker(['run', '--rm', '-v', 'rv:/data', '--volume-driver', 'runvol', 'busybox', 'sh', '-c', 'echo hi > /data/f']);
    assert.equal(once.code, 0, once.stderr);
    assert.equal(existsSync(join(s, 'volumes/rv/f')), true);

    assert.equal((await d.docker(['run', '-d', '--name', 'pa', '-v', 'rv:/data', '--volume-driver', 'runvol', 'busybox', 'sleep', '60'])).code, 0);
    // no --volume-driver: the volume exists, so its driver is used
    const b = await d.docker(['run', '-d', '--name', 'pb', '-v', 'rv:/data', 'busybox', 'sleep', '60']);
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await d.docker(['exec', 'pb', 'cat', '/data/f'])).stdout, 'hi\n');
    const mp = JSON.parse((await d.docker(['inspect', '-f', '{{json .Mounts}}', 'pb'])).stdout)[0];
    assert.equal(mp.Driver, 'runvol');
    assert.equal(mp.Source, join(s, 'volumes/rv'));
    const [v] = JSON.parse((await d.docker(['volume', 'inspect', 'rv'])).stdout);
    assert.equal(v.Status.mounts, 2, 'two containers hold the volume, under two ids');
    const rm = await d.docker(['volume', 'rm', 'rv']);
    assert.match(rm.stderr, /remove rv: volume is in use/);

    assert.equal((await d.docker(['rm', '-f', 'pa', 'pb'])).code, 0);
    const calls = pluginCalls(s).filter((x) => x.method === 'VolumeDriver.Mount' || x.method === 'VolumeDriver.Unmount');
    const mounts = calls.filter((x) => x.method === 'VolumeDriver.Mount').map((x) => x.body.ID as string);
    const unmounts = calls.filter((x) => x.method === 'VolumeDriver.Unmount').map((x) => x.body.ID as string);
    assert.equal(mounts.length, 3);
    assert.equal(new Set(mounts).size, 3, 'each container mount point has its own id');
    for (const id of mounts) assert.match(id, /^[0-9a-f]{64}$/);
    assert.deepEqual([...unmounts].sort(), [...mounts].sort(), 'every Mount has its Unmount with the same id');
    assert.equal((JSON.parse((await d.docker(['volume', 'inspect', 'rv'])).stdout)[0]).Status.mounts, 0);

    const m = await d.docker(['run', '--rm', '--mount', 'type=volume,source=mv,target=/m,volume-driver=runvol,volume-opt=color=blue', 'busybox', 'true']);
    assert.equal(m.code, 0, m.stderr);
    const create = pluginCalls(s).find((x) => x.method === 'VolumeDriver.Create' && x.body.Name === 'mv');
    assert.deepEqual(create?.body.Opts, { color: 'blue' });
    assert.equal((await d.docker(['volume', 'rm', 'rv', 'mv'])).code, 0);

    // an anonymous volume of the plugin goes with --rm, through Remove
    const anon = await d.docker(['run', '--rm', '-v', '/scratch', '--volume-driver', 'runvol', 'busybox', 'sh', '-c', 'touch /scratch/x']);
    assert.equal(anon.code, 0, anon.stderr);
    const created = pluginCalls(s).filter((x) => x.method === 'VolumeDriver.Create').map((x) => x.body.Name as string);
    const anonName = created.at(-1)!;
    assert.match(anonName, /^[0-9a-f]{64}$/);
    assert.ok(pluginCalls(s).some((x) => x.method === 'VolumeDriver.Remove' && x.body.Name === anonName));
    assert.equal(existsSync(join(s, 'volumes', anonName)), false);
  });

  test('spec files name plugins listening elsewhere (.spec URL and .json)', async () => {
    const elsewhere = join(dirs.root, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const { plugin: a } = await start('viaspec', [], elsewhere);
    const { plugin: b } = await start('viajson', [], elsewhere);
    writeFileSync(join(dirs.specs, 'viaspec.spec'), `unix://${a.socket}\n`);
    writeFileSync(join(dirs.specs, 'viajson.json'), JSON.stringify({ Name: 'viajson', Addr: `unix://${b.socket}` }));
    for (const name of ['viaspec', 'viajson']) {
      const r = await d.docker(['volume', 'create', '-d', name, `${name}-v`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await d.docker(['volume', 'inspect', '-f', '{{.Driver}}', `${name}-v`])).stdout.trim(), name);
      assert.equal((await d.docker(['volume', 'rm', `${name}-v`])).code, 0);
    }
  });

  test('an unknown driver, and a plugin that is not a volume driver, are refused with Docker\'s errors', async () => {
    const r = await d.docker(['volume', 'create', '-d', 'nope', 'xv']);
    assert.match(r.stderr, /error looking up volume plugin nope: plugin "nope" not found/);
    assert.equal((await d.http('POST', '/volumes/create', JSON.stringify({ Name: 'xv', Driver: 'nope' }), { 'Content-Type': 'application/json' })).status, 404);
    await start('notvol', ['--implements', 'authz']);
    const n = await d.docker(['volume', 'create', '-d', 'notvol', 'xv']);
    assert.match(n.stderr, /error looking up volume plugin notvol: legacy plugin: Plugin does not implement the requested driver/);
    // through the API: on a 404 the CLI would go and pull the image
    const run = await d.http('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Binds: ['xv:/x'], VolumeDriver: 'nope' } }), { 'Content-Type': 'application/json' });
    assert.equal(run.status, 404);
    assert.match(JSON.parse(run.body).message, /error looking up volume plugin nope: plugin "nope" not found/);
    assert.doesNotMatch((await d.docker(['volume', 'ls', '-q'])).stdout, /^xv$/m, 'nothing was created');
  });

  test('a plugin that answers Err: the client sees it, and no volume is left behind', async () => {
    await start('errvol');
    const r = await d.docker(['volume', 'create', '-d', 'errvol', '-o', 'fail=disk full', 'ev']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error response from daemon: create ev: VolumeDriver.Create: disk full/);
    const soft = await d.docker(['volume', 'create', '-d', 'errvol', '-o', 'softfail=quota exceeded', 'ev2']);
    assert.match(soft.stderr, /create ev2: quota exceeded/);
    const ls = await d.docker(['volume', 'ls', '-q']);
    assert.doesNotMatch(ls.stdout, /^ev2?$/m);
    assert.equal(existsSync(join(d.dataRoot, 'volumes/ev')), false);
    const run = await d.docker(['run', '--rm', '--mount', 'type=volume,source=ev3,target=/x,volume-driver=errvol,volume-opt=fail=nope', 'busybox', 'true']);
    assert.match(run.stderr, /create ev3: VolumeDriver.Create: nope/);
    assert.equal(existsSync(join(d.dataRoot, 'volumes/ev3')), false);
  });

  test('a plugin that hangs: a clear error after the timeout, and other requests are answered meanwhile', async () => {
    await start('hangvol', ['--hang', 'VolumeDriver.Create']);
    const started = Date.now();
    const create = d.docker(['volume', 'create', '-d', 'hangvol', 'hv']);
    let createEnded = false;
    void create.then(() => (createEnded = true));
    await new Promise((r) => setTimeout(r, 500));
    const ps = await d.docker(['ps']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.equal(createEnded, false, 'docker ps was answered while the create still hung (an order, not a speed)');
    const r = await create;
    const took = Date.now() - started;
    assert.match(r.stderr, /create hv: VolumeDriver.Create: plugin hangvol did not answer within 6s/);
    assert.ok(took < 20_000, `the hung create took ${took}ms`);
    assert.doesNotMatch((await d.docker(['volume', 'ls', '-q'])).stdout, /^hv$/m);
  });

  test('a plugin that answers garbage, or crashed: clear errors', async () => {
    await start('garbvol', ['--garbage', 'VolumeDriver.Create']);
    const g = await d.docker(['volume', 'create', '-d', 'garbvol', 'gv']);
    assert.match(g.stderr, /create gv: VolumeDriver.Create: invalid response from plugin garbvol: /);

    const { plugin } = await start('crashvol');
    assert.equal((await d.docker(['volume', 'create', '-d', 'crashvol', 'cv'])).code, 0);
    await plugin.crash();
    const started = Date.now();
    const rm = await d.docker(['volume', 'rm', 'cv']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, new RegExp(`remove cv: VolumeDriver.Remove: dial unix ${plugin.socket}: connect: connection refused`));
    assert.ok(Date.now() - started < 8_000, 'retries stop within the plugin timeout');
    const run = await d.docker(['run', '--rm', '-v', 'cv:/x', 'busybox', 'true']);
    assert.match(run.stderr, /error while mounting volume 'cv': VolumeDriver.Mount: .*connection refused/);
    // the record stays: the plugin may come back
    assert.match((await d.docker(['volume', 'inspect', '-f', '{{.Name}}', 'cv'])).stderr, /connection refused/);
    const ls = JSON.parse((await d.http('GET', '/volumes')).body);
    assert.ok(ls.Warnings.some((w: string) => /^crashvol: VolumeDriver.List: .*connection refused$/.test(w)), ls.Warnings);
    // rm -f purges what the plugin cannot remove, as dockerd
    const forced = await d.docker(['volume', 'rm', '-f', 'cv']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(existsSync(join(d.dataRoot, 'volumes/cv')), false);
  });
});

describe('volume plugins across a --live-restore restart', () => {
  let d: TestDaemon;
  let dirs: PluginDirs;
  let state: string;
  let plugin: RunningPlugin;
  before(async () => {
    dirs = pluginDirs(3);
    state = mkdtempSync('/tmp/berth-e2e-plugin-state-');
    plugin = await startPlugin('volume-plugin.mjs', dirs.sockets, 'lrvol', [state]);
    d = await TestDaemon.start({ extraArgs: [...dirs.daemonArgs, '--live-restore'] });
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
    await plugin?.stop();
    dirs?.remove();
    rmSync(state, { recursive: true, force: true });
  });

  test('a container still running after the restart sends its Unmount when it stops', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'lr', '-v', 'lv:/data', '--volume-driver', 'lrvol', 'busybox', 'sleep', '300'])).code, 0);
    await d.restart();
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'lr'])).stdout.trim(), 'true');
    assert.equal((await d.docker(['rm', '-f', 'lr'])).code, 0);
    const calls = pluginCalls(state);
    const mounts = calls.filter((x) => x.method === 'VolumeDriver.Mount').map((x) => x.body.ID);
    const unmounts = calls.filter((x) => x.method === 'VolumeDriver.Unmount').map((x) => x.body.ID);
    assert.equal(mounts.length, 1);
    assert.deepEqual(unmounts, mounts);
    assert.equal((await d.docker(['volume', 'rm', 'lv'])).code, 0);
  });
});
