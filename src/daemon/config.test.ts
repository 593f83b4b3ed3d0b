import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config.js';

function withFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  const file = join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

test('daemon.json sets hosts, TLS and the socket group; flags and file may not both set one', async () => {
  const file = withFile({ hosts: ['unix:///a.sock', 'tcp://127.0.0.1:2376'], tlsverify: true, tlscacert: '/c/ca.pem', group: 'ops' });
  try {
    const cfg = await loadConfig({}, file, true);
    assert.deepEqual(cfg.hosts, ['unix:///a.sock', 'tcp://127.0.0.1:2376']);
    assert.equal(cfg.tlsVerify, true);
    assert.equal(cfg.tls, undefined);
    assert.equal(cfg.tlsCaCert, '/c/ca.pem');
    assert.equal(cfg.group, 'ops');
    await assert.rejects(loadConfig({ tlsVerify: false }, file, true), /specified both as a flag and in the configuration file: tlsverify/);
  } finally {
    rmSync(join(file, '..'), { recursive: true });
  }
});

test('with TLS and no host, the default is tcp://localhost:2376 (dockerd); otherwise the unix socket', async () => {
  assert.deepEqual((await loadConfig({ tls: true }, undefined, false)).hosts, ['tcp://localhost:2376']);
  assert.deepEqual((await loadConfig({}, undefined, false)).hosts, ['unix:///run/berth.sock']);
  assert.deepEqual((await loadConfig({ hosts: [' ', ''] }, undefined, false)).hosts, ['unix:///run/berth.sock']);
});

test('wrongly typed daemon.json values are refused', async () => {
  const file = withFile({ tlsverify: 'yes' });
  try {
    await assert.rejects(loadConfig({}, file, true), /"tlsverify" must be a boolean/);
  } finally {
    rmSync(join(file, '..'), { recursive: true });
  }
  await assert.rejects(loadConfig({ apiMaxConnections: 0 }, undefined, false), /must be a positive number/);
});

test('plugins: Docker\'s directories by default; daemon.json sets authorization-plugins and the directories', async () => {
  const dflt = await loadConfig({}, undefined, false);
  assert.equal(dflt.pluginSocketDir, '/run/docker/plugins');
  assert.deepEqual(dflt.pluginSpecDirs, ['/etc/docker/plugins', '/usr/lib/docker/plugins']);
  assert.deepEqual(dflt.authorizationPlugins, []);
  const file = withFile({ 'authorization-plugins': ['authz-a', 'authz-b'], 'plugin-socket-dir': '/tmp/p', 'plugin-spec-dirs': ['/tmp/s'], 'plugin-timeout': 5 });
  try {
    const cfg = await loadConfig({}, file, true);
    assert.deepEqual(cfg.authorizationPlugins, ['authz-a', 'authz-b']);
    assert.equal(cfg.pluginSocketDir, '/tmp/p');
    assert.deepEqual(cfg.pluginSpecDirs, ['/tmp/s']);
    assert.equal(cfg.pluginTimeout, 5);
    await assert.rejects(loadConfig({ authorizationPlugins: ['x'] }, file, true), /specified both as a flag and in the configuration file: authorization-plugins/);
  } finally {
    rmSync(join(file, '..'), { recursive: true });
  }
});

test('the CRI endpoint is off unless daemon.json names its socket; the sandbox image has containerd\'s default', async () => {
  assert.equal((await loadConfig({}, undefined, false)).criSocket, '');
  const file = withFile({ 'cri-socket': '/run/berth/k8s.sock', 'cri-sandbox-image': 'registry.local/pause:3.10' });
  try {
    const cfg = await loadConfig({}, file, true);
    assert.equal(cfg.criSocket, '/run/berth/k8s.sock');
    assert.equal(cfg.criSandboxImage, 'registry.local/pause:3.10');
    assert.equal((await loadConfig({}, undefined, false)).criSandboxImage, 'registry.k8s.io/pause:3.10');
    await assert.rejects(loadConfig({ criSocket: '/x.sock' }, file, true), /specified both as a flag and in the configuration file: cri-socket/);
  } finally {
    rmSync(join(file, '..'), { recursive: true });
  }
});
