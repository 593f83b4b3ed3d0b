import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidParameter } from '../../../errdefs/index.js';
import { parseListen } from './console.js';

test('--listen takes HOST:PORT, [V6]:PORT and :PORT (loopback)', () => {
  assert.deepEqual(parseListen('127.0.0.1:7474'), { host: '127.0.0.1', port: 7474 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen(':8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  for (const bad of ['7474', 'host', '1.2.3.4:70000', '::1:80', 'a:b']) assert.throws(() => parseListen(bad), InvalidParameter, bad);
});
