import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointsFor, isInsecure } from './endpoints.js';

const none = { insecureRegistries: [], registryMirrors: [] };

test('docker.io goes to its mirrors first, then registry-1.docker.io', () => {
  const eps = endpointsFor('docker.io', { ...none, registryMirrors: ['https://mirror.example/'] });
  assert.deepEqual(eps.map((e) => [e.url, e.mirror]), [['https://mirror.example', true], ['https://registry-1.docker.io', false]]);
});

test('loopback and configured registries are insecure: HTTPS unverified, then HTTP', () => {
  assert.deepEqual(endpointsFor('127.0.0.1:5000', none).map((e) => [e.url, e.skipVerify]), [['https://127.0.0.1:5000', true], ['http://127.0.0.1:5000', false]]);
  assert.ok(isInsecure('localhost:5000', []));
  assert.ok(!isInsecure('registry.example:5000', []));
  assert.ok(isInsecure('registry.example:5000', ['registry.example:5000']));
  assert.ok(isInsecure('registry.example:5000', ['registry.example']));
  assert.ok(isInsecure('10.1.2.3:5000', ['10.0.0.0/8']));
  assert.ok(!isInsecure('11.1.2.3:5000', ['10.0.0.0/8']));
  assert.deepEqual(endpointsFor('quay.io', none).map((e) => e.url), ['https://quay.io']);
});
