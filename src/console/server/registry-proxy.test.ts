import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidParameter } from '../../errdefs/index.js';
import { registryBase } from './registry-proxy.js';

test('a registry address: loopback over http, others over https, or the scheme it names', () => {
  assert.equal(registryBase('127.0.0.1:5000').href, 'http://127.0.0.1:5000/');
  assert.equal(registryBase('localhost:5000').href, 'http://localhost:5000/');
  assert.equal(registryBase('registry.example').href, 'https://registry.example/');
  assert.equal(registryBase('http://registry.example:5000').href, 'http://registry.example:5000/');
  assert.equal(registryBase('https://127.0.0.1:5000').href, 'https://127.0.0.1:5000/');
});

test('anything but HOST[:PORT] or a bare origin is refused', () => {
  for (const bad of ['', 'a/b', 'http://x/path', 'user:pw@host', 'https://u:p@host', 'host?x=1', 'ftp://host']) {
    assert.throws(() => registryBase(bad), InvalidParameter, bad);
  }
});
