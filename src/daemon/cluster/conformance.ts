/**
 * The cluster-store conformance suite: the in-memory fake and etcd (1 and 3
 * members) must behave the same, so cluster logic unit-tested on the fake
 * holds on etcd. Each test works under its own random prefix, so one store
 * (one etcd cluster) can serve the whole suite.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { LeaseNotFound, StoreCompacted, type ClusterStore, type WatchEvent } from './store.js';

export interface StoreUnderTest {
  store: ClusterStore;
  cleanup: () => Promise<void>;
}

async function take(it: AsyncIterable<WatchEvent>, n: number, ms = 10_000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`watch: got ${out.length} of ${n} events within ${ms} ms`)), ms).unref());
  const loop = (async () => {
    for await (const e of it) {
      out.push(e);
      if (out.length === n) break;
    }
    return out;
  })();
  return Promise.race([loop, timer]);
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what} not within ${ms} ms`);
}

export function storeConformance(label: string, make: () => Promise<StoreUnderTest>): void {
  const withStore = (name: string, fn: (s: ClusterStore, p: string) => Promise<void>) =>
    test(`${label}: ${name}`, async () => {
      const { store, cleanup } = await make();
      const p = `/berth-test/${randomBytes(4).toString('hex')}/`;
      try {
        await fn(store, p);
      } finally {
        await store.deletePrefix(p).catch(() => {});
        await cleanup();
      }
    });

  withStore('put, get, list a prefix in key order, delete', async (s, p) => {
    assert.equal(await s.get(`${p}a`), undefined);
    const r1 = await s.put(`${p}b`, 'two');
    const r2 = await s.put(`${p}a`, 'one');
    assert.ok(r2 > r1);
    await s.put(`${p}a`, 'uno');
    await s.put(`${p.slice(0, -1)}-outside`, 'x');
    const a = await s.get(`${p}a`);
    assert.equal(a?.value, 'uno');
    assert.equal(a?.version, 2);
    assert.equal(a?.createRevision, r2);
    assert.ok(a!.modRevision > r2);
    const l = await s.list(p);
    assert.deepEqual(
      l.items.map((kv) => [kv.key, kv.value]),
      [
        [`${p}a`, 'uno'],
        [`${p}b`, 'two'],
      ],
    );
    assert.ok(l.revision >= a!.modRevision);
    assert.equal(await s.delete(`${p}a`), true);
    assert.equal(await s.delete(`${p}a`), false);
    await s.put(`${p}c`, 'three');
    assert.equal(await s.deletePrefix(p), 2);
    assert.deepEqual((await s.list(p)).items, []);
    assert.equal(await s.delete(`${p.slice(0, -1)}-outside`), true);
  });

  withStore('a transaction on a stale modRevision fails and writes nothing', async (s, p) => {
    const created = await s.txn({ compare: [{ key: `${p}svc`, modRevision: 0 }], success: [{ put: `${p}svc`, value: 'v1' }] });
    assert.equal(created.succeeded, true);
    const again = await s.txn({ compare: [{ key: `${p}svc`, modRevision: 0 }], success: [{ put: `${p}svc`, value: 'v1 again' }], failure: [{ put: `${p}lost`, value: 'yes' }] });
    assert.equal(again.succeeded, false);
    assert.equal((await s.get(`${p}svc`))?.value, 'v1');
    assert.equal((await s.get(`${p}lost`))?.value, 'yes');
    const svc = (await s.get(`${p}svc`))!;
    const ok = await s.txn({ compare: [{ key: `${p}svc`, modRevision: svc.modRevision }], success: [{ put: `${p}svc`, value: 'v2' }, { delete: `${p}lost` }] });
    assert.equal(ok.succeeded, true);
    assert.equal((await s.get(`${p}svc`))?.modRevision, ok.revision);
    assert.equal(await s.get(`${p}lost`), undefined);
  });

  withStore('two managers racing on the same read: exactly one wins', async (s, p) => {
    await s.put(`${p}svc`, 'replicas=1');
    for (let round = 0; round < 5; round++) {
      const read = (await s.get(`${p}svc`))!;
      const attempt = (who: string) =>
        s.txn({
          compare: [{ key: `${p}svc`, modRevision: read.modRevision }],
          success: [
            { put: `${p}svc`, value: `scaled by ${who}` },
            { put: `${p}task/${round}/${who}`, value: 'new' },
          ],
        });
      const [a, b] = await Promise.all([attempt('m1'), attempt('m2')]);
      assert.equal(Number(a.succeeded) + Number(b.succeeded), 1, `round ${round}: ${a.succeeded} ${b.succeeded}`);
      assert.equal((await s.list(`${p}task/${round}/`)).items.length, 1);
    }
  });

  withStore('a watch from a revision sees every change after it, in order', async (s, p) => {
    const start = (await s.list(p)).revision + 1;
    await s.put(`${p}a`, '1');
    await s.put(`${p}b`, '2');
    await s.put(`${p.slice(0, -1)}-outside`, 'not seen');
    await s.delete(`${p}a`);
    await s.txn({ compare: [], success: [{ put: `${p}c`, value: '3' }, { put: `${p}b`, value: '22' }] });
    const ac = new AbortController();
    const seen = await take(s.watch(p, { fromRevision: start, signal: ac.signal }), 5);
    ac.abort();
    assert.deepEqual(
      seen.map((e) => [e.type, e.key.slice(p.length), e.value]),
      [
        ['put', 'a', '1'],
        ['put', 'b', '2'],
        ['delete', 'a', ''],
        ['put', 'c', '3'],
        ['put', 'b', '22'],
      ],
    );
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.modRevision >= seen[i - 1]!.modRevision);
    assert.equal(seen[3]!.modRevision, seen[4]!.modRevision, 'one transaction, one revision');
    await s.delete(`${p.slice(0, -1)}-outside`);
  });

  withStore('a live watch sees writes made while it runs, and ends on abort', async (s, p) => {
    const ac = new AbortController();
    const got = take(s.watch(p, { signal: ac.signal }), 20, 15_000);
    await new Promise((r) => setTimeout(r, 300)); // let the watch get established
    for (let i = 0; i < 20; i++) await s.put(`${p}k${String(i).padStart(2, '0')}`, String(i));
    const seen = await got;
    assert.deepEqual(
      seen.map((e) => e.value),
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
    const ended = (async () => {
      for await (const _ of s.watch(p, { signal: ac.signal })) void _;
      return 'ended';
    })();
    ac.abort();
    assert.equal(await ended, 'ended');
  });

  withStore('a watch from a compacted revision is refused with StoreCompacted; one from after it works', async (s, p) => {
    const r1 = await s.put(`${p}a`, '1');
    const r2 = await s.put(`${p}a`, '2');
    await s.compact(r2);
    await assert.rejects(async () => {
      for await (const _ of s.watch(p, { fromRevision: r1 })) void _;
    }, StoreCompacted);
    const ac = new AbortController();
    const seen = await take(s.watch(p, { fromRevision: r2, signal: ac.signal }), 1);
    ac.abort();
    assert.equal(seen[0]?.value, '2');
  });

  withStore('a lease that is not renewed expires and takes its keys', async (s, p) => {
    const lease = await s.grantLease(2, { keepAlive: false });
    await s.put(`${p}node/a`, 'alive', { lease: lease.id });
    await s.put(`${p}node/b`, 'no lease');
    assert.equal((await s.get(`${p}node/a`))?.lease, lease.id);
    const t0 = Date.now();
    await until(async () => (await s.get(`${p}node/a`)) === undefined, 8000, 'leased key gone');
    assert.ok(Date.now() - t0 >= 1000, 'not before its TTL');
    assert.equal((await s.get(`${p}node/b`))?.value, 'no lease');
  });

  withStore('a kept-alive lease outlives its TTL; revoking it deletes its keys', async (s, p) => {
    const lease = await s.grantLease(2);
    await s.put(`${p}node/a`, 'alive', { lease: lease.id });
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal((await s.get(`${p}node/a`))?.value, 'alive');
    await lease.keepAliveOnce();
    await lease.revoke();
    assert.equal(await s.get(`${p}node/a`), undefined);
    await assert.rejects(lease.keepAliveOnce(), LeaseNotFound);
    await assert.rejects(s.put(`${p}node/a`, 'late', { lease: lease.id }), LeaseNotFound);
    assert.equal(await s.get(`${p}node/a`), undefined);
  });

  withStore("a lease revoked by someone else: its keys go and its holder is told", async (s, p) => {
    const lease = await s.grantLease(2);
    let lost: Error | undefined;
    lease.onLost((err) => (lost = err));
    await s.put(`${p}node/a`, 'alive', { lease: lease.id });
    await s.revokeLease(lease.id);
    assert.equal(await s.get(`${p}node/a`), undefined);
    await until(async () => lost !== undefined, 5000, 'onLost');
    assert.ok(lost instanceof LeaseNotFound, String(lost));
    await assert.rejects(s.revokeLease(lease.id), LeaseNotFound);
    lease.release();
  });

  withStore('members are listed with their URLs', async (s) => {
    const members = await s.listMembers();
    assert.ok(members.length >= 1);
    for (const m of members) {
      assert.match(m.id, /^\d+$/);
      assert.ok(m.peerUrls.length >= 1);
    }
  });
}
