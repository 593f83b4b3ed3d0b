import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContextStore } from './context-store.js';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

async function withStore(max: number, fn: (s: ContextStore, root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'ctx-store-'));
  try {
    await fn(new ContextStore(root, max), root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('the store reports what it lacks, keeps what arrives and survives a restart', async () => {
  await withStore(1 << 20, async (s, root) => {
    assert.deepEqual(await s.missing([hex('a'), hex('b'), hex('a')]), [hex('a'), hex('b')]);
    await s.put(hex('a'), [Buffer.from('a')], 1);
    assert.deepEqual(await s.missing([hex('a'), hex('b')]), [hex('b')]);
    const got = await s.pin(hex('a'));
    assert.equal(readFileSync(got!.path, 'utf8'), 'a');
    assert.equal(await s.pin(hex('b')), undefined);
    assert.deepEqual(await new ContextStore(root).missing([hex('a')]), []);
  });
});

test('past its bound the least recently used unpinned file goes; prune empties all but pinned', async () => {
  await withStore(2, async (s) => {
    await s.put(hex('a'), [Buffer.from('a')], 1);
    await s.put(hex('b'), [Buffer.from('b')], 1);
    const a = await s.pin(hex('a')); // used last, and pinned
    await s.put(hex('c'), [Buffer.from('c')], 1);
    assert.deepEqual(await s.missing([hex('a'), hex('b'), hex('c')]), [hex('b')]);
    assert.equal(await s.prune(), 1);
    assert.ok(existsSync(a!.path));
    assert.deepEqual(await s.missing([hex('a'), hex('c')]), [hex('c')]);
    s.unpin(hex('a'));
    assert.equal(await s.prune(), 1);
    assert.equal((await s.usage()).files, 0);
  });
});
