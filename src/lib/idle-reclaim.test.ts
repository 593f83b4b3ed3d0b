import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { fullGc, IdleReclaimer } from './idle-reclaim.js';

test('collects once after a quiet spell, not while pokes keep coming, and not again when nothing happened', async () => {
  let runs = 0;
  const r = new IdleReclaimer(() => runs++, 60, 1);
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

test('follow-up collections a settle apart while it stays quiet; a poke among them starts a new spell', async () => {
  const at: number[] = [];
  const t0 = Date.now();
  const r = new IdleReclaimer(() => at.push(Date.now() - t0), 60, 3, 40);
  r.poke();
  await sleep(300);
  assert.equal(at.length, 3, 'one collection and two follow-ups');
  assert.ok(at[1]! - at[0]! >= 35 && at[2]! - at[1]! >= 35, `a settle apart: ${at.join(',')}`);
  at.length = 0;
  r.poke();
  await sleep(90); // the first collection of the new spell ran
  assert.equal(at.length, 1);
  r.poke(); // work again before the follow-ups: they wait for the next quiet spell
  await sleep(30);
  assert.equal(at.length, 1, 'no follow-up while busy');
  await sleep(300);
  assert.equal(at.length, 4, 'the poke made a new spell: one more collection and its two follow-ups');
  r.stop();
});

test('fullGc frees garbage now', async () => {
  const gc = fullGc();
  const ref = new WeakRef({ big: new Array(1000).fill(0) });
  await sleep(0); // a WeakRef holds its target until the job that made it ends
  gc();
  assert.equal(ref.deref(), undefined);
});
