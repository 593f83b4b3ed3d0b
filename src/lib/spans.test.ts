import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { summarize, Tracer } from './spans.js';

test('disabled: span() just calls through and nothing is kept', async () => {
  const t = new Tracer();
  assert.equal(await t.trace('req', () => t.span('a', async () => 7)), 7);
  assert.equal(t.current(), undefined);
  assert.deepEqual(t.recent(), []);
});

test('records nested spans of one trace, in order, with depth and durations', async () => {
  const t = new Tracer();
  t.enable(5);
  let done: string | undefined;
  await t.trace('POST /containers/x/start', async () => {
    await t.span('mount', async () => {
      await t.span('spawn mount', async () => tick());
    });
    await t.span('ttrpc Create', async () => tick());
  }, (r) => { done = summarize(r); });
  const [r] = t.recent();
  assert.equal(r!.name, 'POST /containers/x/start');
  assert.deepEqual(r!.spans.map((s) => [s.name, s.depth]), [['mount', 0], ['spawn mount', 1], ['ttrpc Create', 0]]);
  assert.ok(r!.spans.every((s) => typeof s.ms === 'number' && s.ms >= 0));
  assert.ok(r!.spans[2]!.at >= r!.spans[0]!.at);
  assert.equal(typeof r!.ms, 'number');
  assert.match(done!, /^total=\S+ mount=\S+ ttrpc\.Create=\S+$/);
});

test('concurrent traces keep their own spans', async () => {
  const t = new Tracer();
  t.enable(5);
  await Promise.all(['a', 'b'].map((n) => t.trace(n, async () => {
    await tick();
    await t.span(`${n}1`, () => tick());
    await t.span(`${n}2`, () => tick());
  })));
  assert.deepEqual(t.recent().map((r) => r.spans.map((s) => s.name)), [['a1', 'a2'], ['b1', 'b2']]);
});

test('a failed span records the error and the failure still reaches the caller', async () => {
  const t = new Tracer();
  t.enable(1);
  await assert.rejects(t.trace('req', () => t.span('boom', async () => { throw new Error('nope'); })), /nope/);
  assert.equal(t.recent()[0]!.spans[0]!.error, 'nope');
  assert.equal(typeof t.recent()[0]!.ms, 'number');
});

test('keeps only the last N traces, oldest first', async () => {
  const t = new Tracer();
  t.enable(3);
  for (const n of ['1', '2', '3', '4', '5']) t.trace(n, () => undefined);
  assert.deepEqual(t.recent().map((r) => r.name), ['3', '4', '5']);
});

test('a new trace replaces the inherited one (exit handling inside a request context)', async () => {
  const t = new Tracer();
  t.enable(5);
  await t.trace('start', async () => {
    await t.trace('exit', () => t.span('unmount', () => tick()));
  });
  const [start, exit] = t.recent();
  assert.deepEqual(start!.spans, []);
  assert.deepEqual(exit!.spans.map((s) => s.name), ['unmount']);
});

test('a trace stops keeping spans past its cap and counts the rest', () => {
  const t = new Tracer();
  t.enable(1);
  t.trace('long', () => { for (let i = 0; i < 250; i++) t.span('s', () => undefined); });
  assert.equal(t.recent()[0]!.spans.length, 200);
  assert.equal(t.recent()[0]!.dropped, 50);
});
