import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointsFor } from './endpoints.js';
import { parseHostsToml } from './hosts-toml.js';

const none = { insecureRegistries: [], registryMirrors: [] };

const K8S = `
# mirror for an air-gapped node
server = "https://registry.k8s.io"

[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]   # no push

[host."https://mirror.example/v2/k8s"]
  capabilities = ['pull','resolve']
  skip_verify = true
  ca = ["mirror-ca.crt", "/etc/ssl/other.pem"]
  override_path = true

[host."https://push-only.example"]
  capabilities = ["push"]
  [host."https://push-only.example".header]
    x-custom = ["a#b"]
`;

test('hosts.toml: server, hosts in file order with their settings; unknown tables dropped', () => {
  const f = parseHostsToml(K8S, '/etc/berth/certs.d/registry.k8s.io');
  assert.equal(f.server, 'https://registry.k8s.io');
  assert.deepEqual(f.hosts, [
    { url: 'http://127.0.0.1:5000', capabilities: ['pull', 'resolve'], skipVerify: false, ca: [], overridePath: false },
    { url: 'https://mirror.example/v2/k8s', capabilities: ['pull', 'resolve'], skipVerify: true,
      ca: ['/etc/berth/certs.d/registry.k8s.io/mirror-ca.crt', '/etc/ssl/other.pem'], overridePath: true },
    { url: 'https://push-only.example', capabilities: ['push'], skipVerify: false, ca: [], overridePath: false },
  ]);
});

test('hosts.toml: a host with no capabilities gets containerd\'s default (pull, resolve, push)', () => {
  const f = parseHostsToml('[host."http://m:5000"]\nskip_verify = false\n', '/d');
  assert.deepEqual(f.hosts[0]!.capabilities, ['pull', 'resolve', 'push']);
  assert.equal(f.server, undefined);
});

test('hosts.toml: a line that is not TOML names the file and the line', () => {
  assert.throws(() => parseHostsToml('server = "x"\nnot toml\n', '/d/quay.io'), /hosts\.toml in \/d\/quay\.io, line 2/);
  assert.throws(() => parseHostsToml('server = 12\n', '/d'), /unsupported value/);
});

test('endpoints with hosts.toml: pull-capable hosts first, then the server; push-only hosts never', () => {
  const eps = endpointsFor('registry.k8s.io', none, parseHostsToml(K8S, '/c/registry.k8s.io'));
  assert.deepEqual(eps.map((e) => [e.url, e.mirror, e.skipVerify, e.overridePath ?? false]), [
    ['http://127.0.0.1:5000', true, false, false],
    ['https://mirror.example/v2/k8s', true, true, true],
    ['https://registry.k8s.io', false, false, false],
  ]);
});

test('endpoints with hosts.toml and no server: the registry\'s own endpoints last (docker.io: its mirrors, then Hub)', () => {
  const hosts = parseHostsToml('[host."http://127.0.0.1:5000"]\n', '/c');
  assert.deepEqual(endpointsFor('docker.io', { ...none, registryMirrors: ['https://m.example'] }, hosts).map((e) => e.url),
    ['http://127.0.0.1:5000', 'https://m.example', 'https://registry-1.docker.io']);
  assert.deepEqual(endpointsFor('localhost:6000', none, hosts).map((e) => e.url),
    ['http://127.0.0.1:5000', 'https://localhost:6000', 'http://localhost:6000']);
  assert.deepEqual(endpointsFor('docker.io', none, parseHostsToml('server = "https://docker.io"', '/c')).map((e) => e.url), ['https://registry-1.docker.io']);
});
