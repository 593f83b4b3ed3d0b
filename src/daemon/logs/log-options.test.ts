import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rotationOf } from './log-options.js';

test("max-size and max-file as Docker reads them, and Docker's refusals", () => {
  assert.deepEqual(rotationOf(undefined), { maxFiles: 1 });
  assert.deepEqual(rotationOf({ Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '3' } }), { maxSize: 10240, maxFiles: 3 });
  assert.deepEqual(rotationOf({ Type: 'json-file', Config: { 'max-size': '1m' } }), { maxSize: 1 << 20, maxFiles: 1 });
  assert.throws(() => rotationOf({ Type: 'json-file', Config: { 'max-file': '3' } }), /max-file cannot be set without max-size/);
  assert.throws(() => rotationOf({ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '0' } }), /less than 1/);
  assert.throws(() => rotationOf({ Type: 'json-file', Config: { 'max-size': 'lots' } }), /invalid max-size/);
  assert.throws(() => rotationOf({ Type: 'json-file', Config: { foo: 'x' } }), /unknown log opt 'foo' for json-file log driver/);
  assert.throws(() => rotationOf({ Type: 'splunk', Config: {} }), /no log driver named 'splunk'/);
});
