import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, parseTokenAcl } from './config.js';

test("distribution's config.yml: storage, delete, read-only, http, auth", () => {
  const c = parseConfig(`version: 0.1
log:
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
  maintenance:
    readonly:
      enabled: false
http:
  addr: 127.0.0.1:5000
  tls:
    certificate: /c.pem
    key: /k.pem
auth:
  htpasswd:
    realm: r
    path: /etc/htpasswd
`);
  assert.deepEqual(c, { storage: 'filesystem', root: '/var/lib/registry', deleteEnabled: true, readOnly: false, addr: '127.0.0.1:5000', tlsCert: '/c.pem', tlsKey: '/k.pem', htpasswd: '/etc/htpasswd', accessLog: false });
  const s3 = parseConfig('storage:\n  s3:\n    bucket: b\n    region: us-east-1\n    regionendpoint: http://127.0.0.1:7480\n    forcepathstyle: true\nauth:\n  token:\n    realm: https://auth/token\n    service: reg\n    issuer: iss\n    rootcertbundle: /bundle.pem\n');
  assert.deepEqual(s3.s3, { bucket: 'b', region: 'us-east-1', endpoint: 'http://127.0.0.1:7480', pathStyle: true });
  assert.deepEqual(s3.token, { realm: 'https://auth/token', service: 'reg', issuer: 'iss', rootCertBundle: '/bundle.pem' });
});

test('wrong shapes are refused with the key named', () => {
  assert.throws(() => parseConfig('storage:\n  delete:\n    enabled: yes please\n'), /storage.delete.enabled must be true or false/);
  assert.throws(() => parseConfig('http: [1]\n'), /http must be a mapping/);
  assert.throws(() => parseConfig('storage:\n  filesystem: {}\n  s3: {}\n'), /both filesystem and s3/);
});

test("the token endpoint's ACL: auth.token.acl in the config, or a file of the same list", () => {
  const c = parseConfig('auth:\n  token:\n    acl:\n      - { account: alice, name: "team/*", actions: [pull, push] }\n      - { account: "", type: registry, name: catalog, actions: ["*"] }\n');
  assert.deepEqual(c.token?.acl, [
    { account: 'alice', name: 'team/*', actions: ['pull', 'push'] },
    { account: '', type: 'registry', name: 'catalog', actions: ['*'] },
  ]);
  assert.deepEqual(parseTokenAcl('- { account: "*", name: "public/*", actions: [pull] }\n'), [{ account: '*', name: 'public/*', actions: ['pull'] }]);
  assert.deepEqual(parseTokenAcl(''), []);
  assert.throws(() => parseTokenAcl('- { account: a, name: b, actions: [write] }\n'), /the ACL\[0\]\.actions must be a list of pull, push, delete, \*/);
  assert.throws(() => parseTokenAcl('- { name: b, actions: [pull] }\n'), /needs account and name/);
  assert.throws(() => parseConfig('auth:\n  token:\n    acl: {}\n'), /auth.token.acl must be a list/);
});
