import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBudget } from './limits.js';

test('the JSON byte budget refuses what would exceed it, with 503 (request.server_busy), and refills', () => {
  const b = new ByteBudget(100);
  b.take(60);
  assert.throws(() => b.take(41), (e: Error & { code?: string; kind?: string }) => e.code === 'request.server_busy' && e.kind === 'unavailable');
  b.take(40);
  b.give(100);
  assert.equal(b.inUse, 0);
  b.take(100);
});
