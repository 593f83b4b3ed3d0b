/**
 * The content-store conformance suite: what images, layers, the builder and
 * distribution may rely on from any `ContentStore` (content-store.ts).
 * Each implementation's test file calls it with a harness:
 *
 *   contentStoreConformance('file', async () => {
 *     const root = await mkdtemp(...); const store = new FileContentStore(root); await store.init();
 *     return { store, inProgress: () => readdir(join(root, 'ingest')), reopen, cleanup };
 *   });
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InvalidParameter, NotFound } from '../../errdefs/index.js';
import type { Digest } from '../../oci/digest.js';
import { DigestMismatchError, type ContentStore } from './content-store.js';

export interface ContentStoreHarness {
  store: ContentStore;
  /** Writes in progress the store keeps on the side (ingest/ for the file store). */
  inProgress(): Promise<string[]>;
  /** A new store over the same storage, as after a daemon restart. Without it that case is skipped. */
  reopen?(): Promise<ContentStore>;
  cleanup(): Promise<void>;
}

function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A source that hands out `data` in `chunks` pieces, yielding to the event loop between them. */
function slowSource(data: Buffer, chunks: number): Readable {
  const size = Math.ceil(data.length / chunks);
  return Readable.from((async function* () {
    for (let i = 0; i < data.length; i += size) {
      await new Promise((r) => setImmediate(r));
      yield data.subarray(i, i + size);
    }
  })(), { objectMode: false });
}

async function drain(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

const MISSING: Digest = `sha256:${'0'.repeat(64)}`;

export function contentStoreConformance(label: string, make: () => Promise<ContentStoreHarness>): void {
  const withStore = (name: string, fn: (h: ContentStoreHarness) => Promise<void>) => test(`${label}: ${name}`, async () => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.cleanup();
    }
  });

  withStore('ingest a stream: digest, size, then has, info, read, readBytes and list agree', async ({ store, inProgress }) => {
    const data = randomBytes(3 << 20); // several read and write chunks
    const r = await store.ingest(slowSource(data, 7));
    assert.deepEqual(r, { digest: sha256(data), size: data.length, created: true });
    assert.equal(await store.has(r.digest), true);
    assert.deepEqual(await store.info(r.digest), { digest: r.digest, size: data.length });
    assert.ok((await drain(store.read(r.digest))).equals(data));
    assert.ok((await store.readBytes(r.digest)).equals(data));
    assert.deepEqual(await store.list(), [{ digest: r.digest, size: data.length }]);
    assert.deepEqual(await inProgress(), []);
  });

  withStore('a writer hashes what it is given; commit publishes it', async ({ store }) => {
    const w = store.writer();
    w.write('hello ');
    w.end('world');
    await finished(w);
    const r = await w.commit({ digest: sha256('hello world'), size: 11 });
    assert.deepEqual(r, { digest: sha256('hello world'), size: 11, created: true });
    assert.equal((await store.readBytes(r.digest)).toString(), 'hello world');
  });

  withStore('a writer whose bytes the caller hashed commits under the digest it is given, and refuses to without one', async ({ store, inProgress }) => {
    const w = store.writer({ hashedAlongside: true });
    w.end('layer bytes');
    await finished(w);
    const r = await w.commit({ digest: sha256('layer bytes') });
    assert.deepEqual(r, { digest: sha256('layer bytes'), size: 11, created: true });
    assert.equal((await store.readBytes(r.digest)).toString(), 'layer bytes');
    const bare = store.writer({ hashedAlongside: true });
    bare.end('x');
    await finished(bare);
    await assert.rejects(bare.commit(), (e: Error) => e instanceof InvalidParameter && (e as InvalidParameter).code === 'content.digest_required');
    assert.deepEqual(await inProgress(), []);
  });

  withStore('the empty blob is a blob', async ({ store }) => {
    const r = await store.put('');
    assert.deepEqual(r, { digest: sha256(''), size: 0, created: true });
    assert.equal((await store.readBytes(r.digest)).length, 0);
  });

  withStore('an expected digest that does not match: DigestMismatch, nothing kept', async ({ store, inProgress }) => {
    await assert.rejects(store.put('hello', { digest: MISSING }), (e: Error) =>
      e instanceof DigestMismatchError && e instanceof InvalidParameter && (e as InvalidParameter).code === 'content.digest_mismatch');
    await assert.rejects(store.ingest(Readable.from([Buffer.from('hello')]), { digest: MISSING }), DigestMismatchError);
    assert.equal(await store.has(sha256('hello')), false);
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(await inProgress(), []);
  });

  withStore('an expected size that does not match: DigestMismatch, nothing kept', async ({ store, inProgress }) => {
    await assert.rejects(store.put('hello', { size: 4 }), (e: Error) => e instanceof DigestMismatchError && (e as InvalidParameter).code === 'content.size_mismatch');
    // right digest, wrong size: still refused
    await assert.rejects(store.put('hello', { digest: sha256('hello'), size: 6 }), DigestMismatchError);
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(await inProgress(), []);
    assert.equal((await store.put('hello', { digest: sha256('hello'), size: 5 })).created, true);
  });

  withStore('writing a blob the store has: created is false, one copy kept', async ({ store, inProgress }) => {
    assert.equal((await store.put('same')).created, true);
    const again = await store.put('same');
    assert.deepEqual(again, { digest: sha256('same'), size: 4, created: false });
    assert.equal((await store.list()).length, 1);
    assert.deepEqual(await inProgress(), []);
  });

  withStore('concurrent writes of one blob: all succeed, exactly one created it', async ({ store, inProgress }) => {
    const data = randomBytes(256 << 10);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.ingest(slowSource(data, 16))));
    for (const r of results) assert.deepEqual({ digest: r.digest, size: r.size }, { digest: sha256(data), size: data.length });
    assert.equal(results.filter((r) => r.created).length, 1, 'a writer that rolls back deletes only what it created');
    assert.ok((await store.readBytes(sha256(data))).equals(data));
    assert.deepEqual(await store.list(), [{ digest: sha256(data), size: data.length }]);
    assert.deepEqual(await inProgress(), []);
  });

  withStore('concurrent writes of different blobs all land', async ({ store }) => {
    const blobs = Array.from({ length: 6 }, () => randomBytes(64 << 10));
    await Promise.all(blobs.map((b) => store.ingest(slowSource(b, 5))));
    const listed = (await store.list()).map((i) => i.digest).sort();
    assert.deepEqual(listed, blobs.map((b) => sha256(b)).sort());
  });

  withStore('delete removes a blob; deleting a missing one is not an error', async ({ store }) => {
    const a = await store.put('a');
    const b = await store.put('b');
    await store.delete(a.digest);
    assert.equal(await store.has(a.digest), false);
    await assert.rejects(store.info(a.digest), NotFound);
    assert.deepEqual(await store.list(), [{ digest: b.digest, size: 1 }]);
    await store.delete(a.digest);
    assert.equal((await store.put('a')).created, true, 'a deleted blob can be written again');
  });

  withStore('a missing digest: NotFound from info, readBytes and read', async ({ store }) => {
    assert.equal(await store.has(MISSING), false);
    await assert.rejects(store.info(MISSING), NotFound);
    await assert.rejects(store.readBytes(MISSING), NotFound);
    await assert.rejects(drain(store.read(MISSING)), NotFound);
  });

  withStore('a malformed digest: InvalidParameter, never a path', async ({ store }) => {
    for (const bad of ['sha256:../../etc/passwd', 'md5:abc', `sha256:${'A'.repeat(64)}`]) {
      await assert.rejects(store.readBytes(bad as Digest), InvalidParameter, bad);
      await assert.rejects(store.info(bad as Digest), InvalidParameter, bad);
    }
  });

  withStore('a discarded write leaves nothing, even before its file opened', async ({ store, inProgress }) => {
    for (let i = 0; i < 20; i++) {
      const w = store.writer();
      w.write(Buffer.from('partial'));
      await w.discard();
    }
    const w = store.writer();
    w.write(randomBytes(1 << 20));
    await new Promise((r) => setImmediate(r));
    await w.discard();
    assert.deepEqual(await inProgress(), []);
    assert.deepEqual(await store.list(), []);
  });

  withStore('a source that fails mid-stream: the error, nothing kept', async ({ store, inProgress }) => {
    const failing = new Readable({ read() { this.push(Buffer.from('x')); this.destroy(new Error('cut')); } });
    await assert.rejects(store.ingest(failing), /cut/);
    assert.deepEqual(await inProgress(), []);
    assert.deepEqual(await store.list(), []);
  });

  withStore('writes abandoned by a crash are swept when the store opens again', async (h) => {
    if (!h.reopen) return;
    const kept = await h.store.put('kept');
    const w = h.store.writer(); // never committed nor discarded: the daemon died
    await new Promise((r) => w.write('half a layer', r)); // written: its file exists
    assert.ok((await h.inProgress()).length > 0, 'the abandoned write is on the side');
    const store = await h.reopen();
    w.destroy();
    assert.deepEqual(await h.inProgress(), []);
    assert.deepEqual(await store.list(), [{ digest: kept.digest, size: 4 }]);
  });
}
