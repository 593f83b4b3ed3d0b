import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatsSample } from '../../api/types/index.js';
import { statsSamples, type Sampler } from './stats-samples.js';

/** Samples numbered by call, remembering which sample each one was given as `previous`. */
function counter(failAfter = Infinity): { sample: Sampler; calls: { n: number; prev: number | undefined }[] } {
  const calls: { n: number; prev: number | undefined }[] = [];
  const sample: Sampler = async (previous) => {
    const n = calls.length + 1;
    if (n > failAfter) throw new Error('gone');
    calls.push({ n, prev: previous ? Number(previous.id) : undefined });
    return { id: String(n) } as StatsSample;
  };
  return { sample, calls };
}

async function collect(it: AsyncIterable<StatsSample>, max = 10): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of it) {
    ids.push(s.id);
    if (ids.length >= max) break;
  }
  return ids;
}

test('stats --one-shot gives one sample without a previous one and never waits', async () => {
  const { sample, calls } = counter();
  const waits: number[] = [];
  assert.deepEqual(await collect(statsSamples(sample, { stream: false, oneShot: true }, undefined, async (ms) => void waits.push(ms))), ['1']);
  assert.deepEqual(calls, [{ n: 1, prev: undefined }]);
  assert.deepEqual(waits, []);
});

test('stats --no-stream answers the second of two samples 500 ms apart, the first as its precpu', async () => {
  const { sample, calls } = counter();
  const waits: number[] = [];
  assert.deepEqual(await collect(statsSamples(sample, { stream: false, oneShot: false }, undefined, async (ms) => void waits.push(ms))), ['2']);
  assert.deepEqual(calls, [{ n: 1, prev: undefined }, { n: 2, prev: 1 }]);
  assert.deepEqual(waits, [500]);
});

test('a stats stream keeps the first sample back and chains each sample to the one before', async () => {
  const { sample, calls } = counter();
  const waits: number[] = [];
  assert.deepEqual(await collect(statsSamples(sample, { stream: true, oneShot: false }, undefined, async (ms) => void waits.push(ms)), 3), ['2', '3', '4']);
  assert.deepEqual(calls.map((c) => c.prev), [undefined, 1, 2, 3]);
  assert.deepEqual(waits, [1000, 1000, 1000]);
});

test('a stats stream ends quietly when the container goes away', async () => {
  const { sample } = counter(3);
  assert.deepEqual(await collect(statsSamples(sample, { stream: true, oneShot: false }, undefined, async () => {})), ['2', '3']);
});

test('a stats stream ends when the client leaves, without another sample', async () => {
  const { sample, calls } = counter();
  const ac = new AbortController();
  const it = statsSamples(sample, { stream: true, oneShot: false }, ac.signal);
  const first = it.next();
  setTimeout(() => ac.abort(), 20);
  assert.equal((await first).done, true);
  assert.equal(calls.length, 1);
});

test('a failing first sample is an error, not an empty stream', async () => {
  const { sample } = counter(0);
  await assert.rejects(collect(statsSamples(sample, { stream: true, oneShot: false }, undefined, async () => {})), /gone/);
});
