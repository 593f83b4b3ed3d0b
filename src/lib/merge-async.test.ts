import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mergeAsync } from './merge-async.js';

async function* slow(tag: string, n: number, ms: number): AsyncGenerator<string> {
  for (let i = 0; i < n; i++) {
    await sleep(ms);
    yield `${tag}${i}`;
  }
}

test('mergeAsync yields every item of every source, each as it comes', async () => {
  const out: string[] = [];
  for await (const x of mergeAsync([slow('a', 3, 5), slow('b', 2, 12), slow('c', 0, 1)])) out.push(x);
  assert.deepEqual([...out].sort(), ['a0', 'a1', 'a2', 'b0', 'b1']);
  assert.equal(out[0], 'a0');
});

test('mergeAsync ending early ends every source', async () => {
  let ended = 0;
  async function* forever(tag: string): AsyncGenerator<string> {
    try {
      for (;;) {
        await sleep(2);
        yield tag;
      }
    } finally {
      ended++;
    }
  }
  for await (const x of mergeAsync([forever('a'), forever('b')])) if (x) break;
  await sleep(20);
  assert.equal(ended, 2);
});

test('mergeAsync passes a source failure on', async () => {
  async function* failing(): AsyncGenerator<string> {
    await sleep(1);
    throw new Error('boom');
  }
  await assert.rejects(async () => { for await (const _ of mergeAsync([failing(), slow('a', 1, 10)])) void _; }, /boom/);
});

test('mergeAsync takes sources that join while it runs, and ends when they and the joining stream have ended', async () => {
  async function* joiners(): AsyncGenerator<AsyncIterable<string>> {
    await sleep(10);
    yield slow('x', 2, 3);
    await sleep(10);
    yield slow('y', 1, 1);
  }
  const out: string[] = [];
  for await (const v of mergeAsync([slow('a', 1, 1)], joiners())) out.push(v);
  // (no order between sources: a loaded machine may delay any of them)
  assert.deepEqual([...out].sort(), ['a0', 'x0', 'x1', 'y0']);
  assert.ok(out.indexOf('x0') < out.indexOf('x1'), 'a source\'s own items in order');
});
