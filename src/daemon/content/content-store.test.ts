import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileContentStore } from './content-store.js';

async function withStore(fn: (store: FileContentStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  try {
    const store = new FileContentStore(root);
    await store.init();
    await fn(store, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('a write discarded before its file is even open leaves nothing in ingest/', () =>
  withStore(async (store, root) => {
    for (let i = 0; i < 50; i++) {
      const w = store.writer();
      w.write(Buffer.from('partial'));
      await w.discard();
    }
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  }));

test('a source that fails mid-stream leaves nothing in ingest/ and no blob', () =>
  withStore(async (store, root) => {
    const failing = new Readable({ read() { this.push(Buffer.from('x')); this.destroy(new Error('cut')); } });
    await assert.rejects(store.ingest(failing), /cut/);
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
    assert.deepEqual(await store.list(), []);
  }));

test('ingest checks the expected digest and keeps nothing on a mismatch', () =>
  withStore(async (store, root) => {
    await assert.rejects(store.put('hello', { digest: `sha256:${'0'.repeat(64)}` }), /digest mismatch/);
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
    const ok = await store.put('hello');
    assert.equal(ok.digest, 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    assert.equal((await store.put('hello')).created, false);
  }));
