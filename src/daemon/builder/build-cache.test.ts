import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prunePlan, sharedSteps, type CacheItem } from './build-cache.js';

const item = (id: string, o: Partial<CacheItem> = {}): CacheItem => ({ id, type: 'regular', size: 10, created: 1000, usage: 0, inUse: false, shared: false, description: '', ...o });

test('a step image under a tagged or non-step image is shared; a dangling chain is not', () => {
  const shared = sharedSteps([
    { id: 'base', step: false, kept: true },
    { id: 's1', parent: 'base', step: true, kept: false },
    { id: 's2', parent: 's1', step: true, kept: true },
    { id: 'd1', parent: 'base', step: true, kept: false },
    { id: 'd2', parent: 'd1', step: true, kept: false },
  ]);
  assert.deepEqual([...shared].sort(), ['base', 's1', 's2']);
});

test('prune removes children before parents, skips shared, in-use and too recent items', () => {
  const items = [
    item('a'), item('b', { parent: 'a' }), item('c', { parent: 'b' }),
    item('s', { shared: true }), item('m', { type: 'exec.cachemount', inUse: true }),
    item('new', { created: 5000 }),
  ];
  assert.deepEqual(prunePlan(items, {}), ['c', 'b', 'a', 'new']);
  assert.deepEqual(prunePlan(items, { until: 2000 }), ['c', 'b', 'a']);
});

test('keep-storage removes the least recently used until the rest fits', () => {
  const items = [item('old', { lastUsed: 100, size: 50 }), item('mid', { lastUsed: 200, size: 50 }), item('recent', { lastUsed: 300, size: 50 })];
  assert.deepEqual(prunePlan(items, { keepStorage: 100 }), ['old']);
  assert.deepEqual(prunePlan(items, { keepStorage: 0 }), ['old', 'mid', 'recent']);
  assert.deepEqual(prunePlan(items, { keepStorage: 1000 }), []);
});
