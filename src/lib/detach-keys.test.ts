import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachMatcher, parseDetachKeys } from './detach-keys.js';

test('parses docker detach key specs', () => {
  assert.deepEqual(parseDetachKeys(undefined), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-a,x'), [1, 120]);
  assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-_'), [0, 31]);
  assert.throws(() => parseDetachKeys('alt-x'), /Invalid detach keys/);
});

test('finds the sequence across chunks and passes other bytes through', () => {
  const m = new DetachMatcher([16, 17]);
  assert.deepEqual(m.push(Buffer.from([97, 16])), { pass: Buffer.from([97]), detached: false });
  assert.deepEqual(m.push(Buffer.from([98])), { pass: Buffer.from([16, 98]), detached: false });
  assert.deepEqual(m.push(Buffer.from([16])), { pass: Buffer.from([]), detached: false });
  assert.deepEqual(m.push(Buffer.from([17, 99])), { pass: Buffer.from([]), detached: true });
});
