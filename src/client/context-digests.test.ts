import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { headerDefaults } from '../lib/tar/index.js';
import { filesToSend, hashEntries, walkContext, type ContextEntry } from './context-digests.js';

const file = (name: string, hex: string): ContextEntry => ({ header: headerDefaults({ name, type: 'file', size: 1 }), hostPath: `/x/${name}`, hex });

test('the manifest diff sends each missing content once and refers to everything else', () => {
  const entries = [file('a', '1'), file('b', '2'), file('c', '1'), file('d', '3'), { header: headerDefaults({ name: 'dir/', type: 'dir' }) }];
  const send = filesToSend(entries, new Set(['1', '3']));
  assert.deepEqual([...send].map((e) => e.header.name), ['a', 'd']);
  assert.equal(filesToSend(entries, new Set()).size, 0);
});

test('digests come from the cache while a file is unchanged, and are recomputed when it changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctx-digests-'));
  try {
    const cache = join(dir, 'cache', 'digests.json');
    const ctx = join(dir, 'ctx');
    mkdirSync(join(ctx, 'skipped'), { recursive: true });
    writeFileSync(join(ctx, 'f'), 'one');
    writeFileSync(join(ctx, 'skipped', 'x'), 'x');
    const skip = (name: string) => name === 'skipped';
    const first = await walkContext(ctx, skip);
    assert.deepEqual(first.map((e) => e.header.name), ['f']);
    await hashEntries(first, cache);
    assert.equal(first[0]!.hex, '7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed');
    // a digest only the cache knows: an unchanged file is not read again
    const saved = JSON.parse(readFileSync(cache, 'utf8')) as Record<string, unknown[]>;
    saved[join(ctx, 'f')]![4] = 'from-the-cache';
    writeFileSync(cache, JSON.stringify(saved));
    const again = await walkContext(ctx, skip);
    await hashEntries(again, cache);
    assert.equal(again[0]!.hex, 'from-the-cache');
    writeFileSync(join(ctx, 'f'), 'two');
    const changed = await walkContext(ctx, skip);
    await hashEntries(changed, cache);
    assert.equal(changed[0]!.hex, '3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
