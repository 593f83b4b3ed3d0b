import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAuthHeader, encodeAuthHeader } from './registry-auth.js';

test('the header the docker CLI sends decodes, in either alphabet, padded or not', () => {
  const cli = 'eyJ1c2VybmFtZSI6ImFsaWNlIiwicGFzc3dvcmQiOiJzZWNyZXQiLCJzZXJ2ZXJhZGRyZXNzIjoibG9jYWxob3N0OjUwMDIifQ==';
  const want = { username: 'alice', password: 'secret', serveraddress: 'localhost:5002' };
  assert.deepEqual(decodeAuthHeader(cli), want);
  assert.deepEqual(decodeAuthHeader(cli.replace(/=+$/, '')), want);
  const tricky = { username: 'a?>~', password: '??>>??' };
  const std = Buffer.from(JSON.stringify(tricky)).toString('base64');
  assert.ok(/[+/]/.test(std), 'the sample needs + or /');
  assert.deepEqual(decodeAuthHeader(std), tricky);
  assert.deepEqual(decodeAuthHeader(encodeAuthHeader(tricky)), tricky);
});

test('anonymous, garbage and legacy auth fields', () => {
  assert.deepEqual(decodeAuthHeader('e30='), {});
  assert.deepEqual(decodeAuthHeader(undefined), {});
  assert.deepEqual(decodeAuthHeader('%%%not base64'), {});
  assert.deepEqual(decodeAuthHeader(Buffer.from('[1]').toString('base64')), {});
  const legacy = Buffer.from(JSON.stringify({ auth: Buffer.from('bob:pa:ss').toString('base64') })).toString('base64');
  const got = decodeAuthHeader(legacy);
  assert.equal(got.username, 'bob');
  assert.equal(got.password, 'pa:ss');
});
