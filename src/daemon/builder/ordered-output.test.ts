import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OrderedOutput } from './ordered-output.js';

test('a later stage\'s messages wait for the stages before it, then go out whole and in order', () => {
  const seen: string[] = [];
  const out = new OrderedOutput([0, 2, 3], (m) => seen.push(m.stream!));
  const [w0, w2, w3] = [out.writer(0), out.writer(2), out.writer(3)];
  w0({ stream: '0a' });
  w3({ stream: '3a' });
  w2({ stream: '2a' });
  assert.deepEqual(seen, ['0a']);
  w3({ stream: '3b' });
  out.finish(3);
  assert.deepEqual(seen, ['0a']);
  w0({ stream: '0b' });
  out.finish(0);
  assert.deepEqual(seen, ['0a', '0b', '2a']);
  w2({ stream: '2b' }); // 2 is the head now: live
  assert.deepEqual(seen, ['0a', '0b', '2a', '2b']);
  out.finish(2);
  assert.deepEqual(seen, ['0a', '0b', '2a', '2b', '3a', '3b']);
});

test('flushAll sends what a failed build still buffered, in stage order', () => {
  const seen: string[] = [];
  const out = new OrderedOutput([0, 1, 2], (m) => seen.push(m.stream!));
  out.writer(2)({ stream: '2' });
  out.writer(1)({ stream: '1' });
  out.writer(0)({ stream: '0' });
  out.flushAll();
  assert.deepEqual(seen, ['0', '1', '2']);
});
