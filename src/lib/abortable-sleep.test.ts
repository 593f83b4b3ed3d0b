import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { sleepUnlessAborted } from './abortable-sleep.js';

test('sleepUnlessAborted: waits the time; an abort ends it early; no listener stays on the signal', async () => {
  const ctl = new AbortController();
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) await sleepUnlessAborted(5, ctl.signal);
  assert.ok(Date.now() - t0 >= 100, 'each wait took its time');
  // a loop on one long-lived signal must not gather a listener per wait
  assert.equal(getEventListeners(ctl.signal, 'abort').length, 0);
  const waiting = sleepUnlessAborted(60_000, ctl.signal);
  assert.equal(getEventListeners(ctl.signal, 'abort').length, 1);
  ctl.abort();
  await waiting; // resolves at once, not after a minute
  assert.equal(getEventListeners(ctl.signal, 'abort').length, 0);
});
