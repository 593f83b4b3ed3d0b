import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, encodeFrame, protocolVersion } from './channels.js';
import { parsePorts } from './port-forward.js';
import { statusFrame } from './remote-command.js';
import { TokenCache } from './tokens.js';

test('a token is good once and not after a minute', () => {
  let now = 0;
  const c = new TokenCache<string>(60_000, 2, () => now);
  const a = c.put('a');
  assert.match(a, /^[A-Za-z0-9_-]{11}$/);
  assert.equal(c.consume(a), 'a');
  assert.equal(c.consume(a), undefined);
  const b = c.put('b');
  now = 60_000;
  assert.equal(c.consume(b), undefined);
});

test('at most `max` tokens wait; expired ones make room', () => {
  let now = 0;
  const c = new TokenCache<number>(1_000, 2, () => now);
  c.put(1);
  c.put(2);
  assert.throws(() => c.put(3), /maximum number of in-flight requests exceeded/);
  now = 1_000;
  assert.doesNotThrow(() => c.put(3));
});

test('binary frames lead with the channel byte, base64 ones with its digit', () => {
  assert.deepEqual(encodeFrame(2, Buffer.from('hi'), false), Buffer.from([2, 104, 105]));
  assert.equal(encodeFrame(1, Buffer.from('hi'), true), '1aGk=');
  assert.deepEqual(decodeFrame(Buffer.from('0aGk='), true), { channel: 0, data: Buffer.from('hi') });
  assert.deepEqual(decodeFrame(Buffer.from([4, 123]), false), { channel: 4, data: Buffer.from('{') });
  assert.equal(decodeFrame(Buffer.alloc(0), false), undefined);
  assert.deepEqual(['v5.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io'].map(protocolVersion), [5, 4, 1]);
});

test('the error channel: a Status from v4 on, only an error\'s text before', () => {
  assert.equal(statusFrame(4, undefined)?.toString(), '{"metadata":{},"status":"Success"}');
  assert.equal(statusFrame(1, undefined), undefined);
  assert.equal(statusFrame(1, { message: 'boom' })?.toString(), 'boom');
  assert.deepEqual(JSON.parse(statusFrame(5, { message: 'm', exitCode: 2 })!.toString()).details, { causes: [{ reason: 'ExitCode', message: '2' }] });
});

test('port-forward ports: repeated or comma lists; missing, zero or bad ones are refused', () => {
  assert.deepEqual(parsePorts(new URLSearchParams('port=80,443&port=8080')), [80, 443, 8080]);
  assert.throws(() => parsePorts(new URLSearchParams('')), /query parameter "port" is required/);
  assert.throws(() => parsePorts(new URLSearchParams('port=0')), /must be > 0/);
  assert.throws(() => parsePorts(new URLSearchParams('port=70000')), /unable to parse/);
  assert.throws(() => parsePorts(new URLSearchParams('port=')), /cannot be empty/);
});
