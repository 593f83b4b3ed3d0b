import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './config.js';
import { withFileSettings, type ServeSettings } from './settings.js';

const defaults: ServeSettings = { storage: 'filesystem', s3Region: 'us-east-1', addr: '127.0.0.1:5000', maxManifestBytes: 4 << 20, tokenService: 'berth-registry', tokenIssuer: 'berth-registry' };

test('the config file fills what no flag set; a flag set on the command line wins', () => {
  const file = parseConfig('storage:\n  filesystem:\n    rootdirectory: /file/root\n  delete:\n    enabled: true\nhttp:\n  addr: 0.0.0.0:1\nlog:\n  accesslog:\n    disabled: true\n');
  const o = withFileSettings({ ...defaults, addr: '127.0.0.1:7000' }, file, (name) => name === 'addr', {});
  assert.equal(o.addr, '127.0.0.1:7000');
  assert.equal(o.root, '/file/root');
  assert.equal(o.deleteEnabled, true);
  assert.equal(o.quiet, true);
});

test("the file's S3 keys are used only when the environment has none", () => {
  const file = parseConfig('storage:\n  s3:\n    bucket: b\n    accesskey: AK\n    secretkey: SK\n');
  const fromFile = withFileSettings(defaults, file, () => false, {});
  assert.equal(fromFile.storage, 's3');
  assert.equal(fromFile.s3Bucket, 'b');
  assert.deepEqual([fromFile.s3AccessKey, fromFile.s3SecretKey], ['AK', 'SK']);
  const fromEnv = withFileSettings(defaults, file, () => false, { AWS_ACCESS_KEY_ID: 'ENV' });
  assert.equal(fromEnv.s3AccessKey, undefined);
});

test('the token ACL comes from the file when it has one', () => {
  const file = parseConfig('auth:\n  token:\n    realm: https://auth/token\n    acl:\n      - {account: alice, name: "team/*", actions: [pull]}\n');
  const o = withFileSettings(defaults, file, () => false, {});
  assert.equal(o.tokenRealm, 'https://auth/token');
  assert.deepEqual(o.tokenAclEntries, [{ account: 'alice', name: 'team/*', actions: ['pull'] }]);
});
