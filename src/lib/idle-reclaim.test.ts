import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { fullGc, IdleReclaimer } from './idle-reclaim.js';

test('collects once after a quiet spell, not while pokes keep coming, and not again when nothing happened', async () => {
  let runs = 0;
  const r = new IdleReclaimer(() => runs++, 60);
  for (let i = 0; i < 5; i++) {
    r.poke();
    await sleep(25);
  }
  assert.equal(runs, 0, 'still busy');
  await sleep(150);
  assert.equal(runs, 1);
  await sleep(150);
  assert.equal(runs, 1, 'idle and clean: no second collection');
  r.poke();
  r.stop();
  await sleep(150);
  assert.equal(runs, 1, 'stopped');
});

test('fullGc frees garbage now', async () => {
  const gc = fullGc();
  const ref = new WeakRef({ big: new Array(1000).fill(0) });
  await sleep(0); // a WeakRef holds its target until the job that made it ends
  gc();
  assert.equal(ref.deref(), undefined);
});
