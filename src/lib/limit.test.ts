import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { concurrencyLimit } from './limit.js';

test('never runs more than n at once, and runs them all, failures included', async () => {
  const limit = concurrencyLimit(3);
  let now = 0;
  let peak = 0;
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => limit(async () => {
    peak = Math.max(peak, ++now);
    await sleep(5);
    now--;
    if (i === 4) throw new Error('x');
    return i;
  })));
  assert.equal(peak, 3);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 9);
});
