import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeConformance } from './conformance.js';
import { MemoryStore } from './memory-store.js';
import { StoreCompacted } from './store.js';

storeConformance('memory', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

test('memory: a watch from a compacted revision is refused', async () => {
  const s = new MemoryStore();
  await s.put('/a', '1');
  const r = await s.put('/a', '2');
  s.compact(r);
  await assert.rejects(async () => {
    for await (const _ of s.watch('/', { fromRevision: 1 })) void _;
  }, StoreCompacted);
  await s.close();
});

test('memory: putting with a lease that does not exist is refused', async () => {
  const s = new MemoryStore();
  await assert.rejects(s.put('/a', '1', { lease: '42' }), /lease 42 not found/);
  await s.close();
});
