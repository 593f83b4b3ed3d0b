import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory-store.js';
import { currentLeader, LeaderElection, Leadership, LEADER_KEY } from './leader-election.js';

const waitFor = async (cond: () => boolean | Promise<boolean>, ms: number, what: string) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${what} not within ${ms} ms`);
};

test('the first manager to campaign leads; the others follow and take over when it resigns', async () => {
  const store = new MemoryStore();
  const [la, lb] = [new Leadership(), new Leadership()];
  const changes: boolean[] = [];
  la.onChange((v) => changes.push(v));
  const a = new LeaderElection(store, 'node-a', la, { ttlSeconds: 1 });
  const b = new LeaderElection(store, 'node-b', lb, { ttlSeconds: 1 });
  await a.start({ wait: true });
  await b.start({ wait: true });
  assert.equal(la.isLeader, true);
  assert.equal(lb.isLeader, false);
  assert.equal(await currentLeader(store), 'node-a');
  await a.stop();
  assert.deepEqual(changes, [true, false]);
  await waitFor(() => lb.isLeader, 2000, 'node-b leads');
  assert.equal(await currentLeader(store), 'node-b');
  await b.stop();
  assert.equal(await currentLeader(store), undefined, 'a resigning leader deletes the key at once');
  await store.close();
});

test('a leader whose lease is gone (expired while it was cut off) steps down and the key is taken by another', async () => {
  const store = new MemoryStore();
  const [la, lb] = [new Leadership(), new Leadership()];
  const a = new LeaderElection(store, 'node-a', la, { ttlSeconds: 1 });
  await a.start({ wait: true });
  const b = new LeaderElection(store, 'node-b', lb, { ttlSeconds: 1 });
  await b.start({ wait: true });
  // the leader's lease vanishes under it, as when etcd expired it during a partition
  await store.revokeLease((await store.get(LEADER_KEY))!.lease!);
  await waitFor(() => !la.isLeader && lb.isLeader, 3000, 'leadership moves to node-b');
  assert.equal(await currentLeader(store), 'node-b');
  await Promise.all([a.stop(), b.stop()]);
  await store.close();
});

test('a listener that throws does not stop the others from hearing the change', () => {
  const l = new Leadership();
  const seen: boolean[] = [];
  l.onChange(() => {
    throw new Error('boom');
  });
  const off = l.onChange((v) => seen.push(v));
  l.set(true);
  l.set(true);
  off();
  l.set(false);
  assert.deepEqual(seen, [true]);
});

test('a leader whose renewals hang (cut off from quorum) steps down within its TTL', async () => {
  const store = new MemoryStore();
  let hang = false;
  const cutOff = Object.assign(Object.create(store) as MemoryStore, {
    grantLease: async (ttl: number, o?: { keepAlive?: boolean }) => {
      const lease = await store.grantLease(ttl, o);
      return { ...lease, keepAliveOnce: () => (hang ? new Promise<void>(() => {}) : lease.keepAliveOnce()) };
    },
  });
  const l = new Leadership();
  const e = new LeaderElection(cutOff, 'node-a', l, { ttlSeconds: 1 });
  await e.start({ wait: true });
  assert.equal(l.isLeader, true);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(l.isLeader, true, 'renewals keep it leading');
  let steppedDownAt = 0;
  l.onChange((leading) => { if (!leading && !steppedDownAt) steppedDownAt = Date.now(); });
  hang = true;
  const t0 = Date.now();
  await waitFor(() => steppedDownAt > 0, 2000, 'steps down');
  assert.ok(steppedDownAt - t0 <= 1100, `stepped down after ${steppedDownAt - t0} ms`);
  await e.stop();
  await store.close();
});
