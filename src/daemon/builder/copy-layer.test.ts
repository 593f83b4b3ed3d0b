import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Digest } from '../../oci/digest.js';
import { MemoryContentStore } from '../content/memory-content-store.js';
import { copyChecksum, storeCopyLayer, type CopyPlan } from './copy-layer.js';

/** A layer store's part, as the real one does it: the diffID is the sha256 of the tar it was given. */
async function hashingApply(tar: Readable): Promise<{ diffId: Digest; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const c of tar) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  return { diffId: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

test('a COPY layer is stored once under the diffID its layer store computed, its bytes those the layer store got', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'copy-layer-'));
  try {
    writeFileSync(join(dir, 'a.txt'), 'alpha\n');
    const plan: CopyPlan = { sources: [{ rel: 'a.txt', abs: join(dir, 'a.txt'), isDir: false }], dest: '/app/a.txt', destIsDir: false, missingDirs: ['/app'], extractArchives: false };
    const content = new MemoryContentStore();
    const { blob, layer } = await storeCopyLayer(plan, content, hashingApply);
    assert.equal(blob.digest, layer.diffId);
    const stored = await content.readBytes(blob.digest);
    assert.ok(stored.equals(layer.bytes));
    assert.equal(`sha256:${createHash('sha256').update(stored).digest('hex')}`, blob.digest);
    assert.equal(content.inProgress(), 0);
    // the tar carries the file: a changed file makes another layer (and another cache key)
    const before = await copyChecksum(plan);
    writeFileSync(join(dir, 'a.txt'), 'beta\n');
    const again = await storeCopyLayer(plan, content, hashingApply);
    assert.notEqual(again.blob.digest, blob.digest);
    assert.notEqual(await copyChecksum(plan), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a layer store that fails leaves no blob behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'copy-layer-'));
  try {
    writeFileSync(join(dir, 'a.txt'), 'alpha\n');
    const plan: CopyPlan = { sources: [{ rel: 'a.txt', abs: join(dir, 'a.txt'), isDir: false }], dest: '/a.txt', destIsDir: false, missingDirs: [], extractArchives: false };
    const content = new MemoryContentStore();
    await assert.rejects(storeCopyLayer(plan, content, async (tar) => {
      tar.resume();
      throw new Error('disk full');
    }), /disk full/);
    assert.deepEqual(await content.list(), []);
    assert.equal(content.inProgress(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
