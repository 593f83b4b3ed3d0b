import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applySettings, checkPrivileges, implementsOf, initialSettings, parsePluginConfig, privilegesOf, withLatest } from './config.js';
import { pluginSpec } from './spec.js';

const base = {
  Description: 'd', Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'p.sock' }, Entrypoint: ['/p'],
  Network: { Type: 'host' }, Linux: { Capabilities: ['CAP_SYS_ADMIN'], Devices: [{ Name: 'dev', Settable: ['path'], Path: '/dev/fuse' }] },
  Mounts: [{ Name: 'state', Settable: ['source'], Source: '/var/lib/x', Destination: '/state', Type: 'bind', Options: ['rbind'] }],
  Env: [{ Name: 'DEBUG', Settable: ['value'], Value: '0' }, { Name: 'KEY' }],
  Args: { Name: 'args', Settable: ['value'], Value: ['-v'] },
};

describe('managed plugin config', () => {
  test('parse keeps what the API shows and refuses hostile shapes', () => {
    const c = parsePluginConfig(JSON.stringify(base));
    assert.deepEqual(c.Interface, { Types: ['docker.volumedriver/1.0'], Socket: 'p.sock' });
    assert.equal(c.Mounts[0]!.Source, '/var/lib/x');
    assert.throws(() => parsePluginConfig('[]'), /not a JSON object/);
    assert.throws(() => parsePluginConfig('{'), /invalid plugin config/);
    assert.throws(() => parsePluginConfig(JSON.stringify({ ...base, Interface: { Types: [], Socket: '../../etc/x.sock' } })), /must be a file name/);
    assert.throws(() => parsePluginConfig(JSON.stringify({ ...base, Entrypoint: 'sh' })), /Entrypoint must be a list of strings/);
    assert.throws(() => parsePluginConfig(JSON.stringify({ ...base, Mounts: [{ Destination: 'rel' }] })), /absolute path/);
  });

  test('initial settings, capabilities and privileges follow moby', () => {
    const c = parsePluginConfig(JSON.stringify(base));
    assert.deepEqual(initialSettings(c).Env, ['DEBUG=0']);
    assert.deepEqual(initialSettings(c).Args, ['-v']);
    assert.deepEqual(implementsOf(c), ['VolumeDriver']);
    assert.deepEqual(privilegesOf(c).map((p) => [p.Name, p.Value]), [
      ['network', ['host']], ['mount', ['/var/lib/x']], ['device', ['/dev/fuse']], ['capabilities', ['CAP_SYS_ADMIN']],
    ]);
    assert.doesNotThrow(() => checkPrivileges(privilegesOf(c), [...privilegesOf(c)].reverse()));
    assert.throws(() => checkPrivileges(privilegesOf(c), privilegesOf(c).slice(1)), /incorrect privileges/);
  });

  test('set changes settable env, args, mount sources and device paths; others get Docker errors', () => {
    const c = parsePluginConfig(JSON.stringify(base));
    const s = applySettings(c, initialSettings(c), ['DEBUG=1', 'args=-a -b', 'state.source=/srv', 'dev.path=/dev/null']);
    assert.deepEqual(s.Env, ['DEBUG=1']);
    assert.throws(() => applySettings(c, initialSettings(c), ['KEY=x']), /"KEY" is not settable/);
    assert.deepEqual(s.Args, ['-a', '-b']);
    assert.equal(s.Mounts[0]!.Source, '/srv');
    assert.equal(s.Devices[0]!.Path, '/dev/null');
  });

  test('set refusals', () => {
    const c = parsePluginConfig(JSON.stringify({ ...base, Env: [{ Name: 'FIXED', Value: '1' }] }));
    assert.throws(() => applySettings(c, initialSettings(c), ['FIXED=2']), /"FIXED" is not settable/);
    assert.throws(() => applySettings(c, initialSettings(c), ['state.destination=/x']), /"state.destination" is not settable/);
    assert.throws(() => applySettings(c, initialSettings(c), ['NOPE=1']), /setting "NOPE" not found in the plugin configuration/);
    assert.throws(() => applySettings(c, initialSettings(c), ['novalue']), /invalid settable/);
  });

  test('names get :latest unless tagged', () => {
    assert.equal(withLatest('vol'), 'vol:latest');
    assert.equal(withLatest('localhost:5000/team/vol'), 'localhost:5000/team/vol:latest');
    assert.equal(withLatest('team/vol:1.0'), 'team/vol:1.0');
  });

  test('the runtime spec runs the entrypoint with settings in the plugin root, socket dir bound at /run/docker/plugins', () => {
    const c = parsePluginConfig(JSON.stringify(base));
    const spec = pluginSpec({
      plugin: { Id: 'a'.repeat(64), Name: 'p:latest', Enabled: true, Settings: initialSettings(c), Config: c },
      rootfs: '/data/plugins/a/rootfs', runtimeDir: '/run/docker/plugins/a', cgroupsPath: '/berth/plugin-a', cgroupVersion: 1,
    });
    assert.deepEqual(spec.process.args, ['/p', '-v']);
    assert.ok(spec.process.env.includes('DEBUG=0'));
    assert.ok(spec.process.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
    assert.equal(spec.root.path, '/data/plugins/a/rootfs');
    // host network: no network namespace of its own
    assert.ok(!spec.linux.namespaces.some((n) => n.type === 'network'));
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/run/docker/plugins')?.source, '/run/docker/plugins/a');
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/state'), { destination: '/state', type: 'bind', source: '/var/lib/x', options: ['rbind'] });
  });

  test('device settings become device nodes with an allow rule', () => {
    const c = parsePluginConfig(JSON.stringify(base));
    const spec = pluginSpec({
      plugin: { Id: 'a'.repeat(64), Name: 'p:latest', Enabled: true, Settings: initialSettings(c), Config: c },
      rootfs: '/r', runtimeDir: '/run/docker/plugins/a', cgroupsPath: '/berth/plugin-a', cgroupVersion: 2,
      devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }],
    });
    assert.deepEqual(spec.linux.devices, [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o660, uid: 0, gid: 0 }]);
    assert.deepEqual(spec.linux.resources!.devices!.at(-1), { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
  });

  test('a PropagatedMount is bound rshared from its host directory, with an rshared root', () => {
    const c = parsePluginConfig(JSON.stringify({ ...base, PropagatedMount: '/mnt/vols' }));
    const plugin = { Id: 'a'.repeat(64), Name: 'p:latest', Enabled: true, Settings: initialSettings(c), Config: c };
    const spec = pluginSpec({ plugin, rootfs: '/r', runtimeDir: '/s', cgroupsPath: '/c', cgroupVersion: 1, propagatedMount: '/d/propagated-mount' });
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/mnt/vols'), { destination: '/mnt/vols', type: 'bind', source: '/d/propagated-mount', options: ['rbind', 'rshared'] });
    assert.equal(spec.linux.rootfsPropagation, 'rshared');
    const plain = pluginSpec({ plugin: { ...plugin, Config: { ...c, PropagatedMount: '' } }, rootfs: '/r', runtimeDir: '/s', cgroupsPath: '/c', cgroupVersion: 1 });
    assert.equal(plain.linux.rootfsPropagation, undefined);
  });
});
