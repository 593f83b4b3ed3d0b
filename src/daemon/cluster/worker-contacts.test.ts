import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore } from './memory-store.js';
import type { ClusterStore, Member } from './store.js';
import { CLUSTER_KEY, defaultSwarmSpec } from './swarm-objects.js';
import { followContacts, sameSet } from './worker-contacts.js';

/** A swarm's store whose member list the test sets. */
async function storeWith(members: () => Member[]): Promise<ClusterStore> {
  const s = new MemoryStore() as unknown as ClusterStore;
  s.listMembers = async () => members();
  await s.put(CLUSTER_KEY, JSON.stringify({ spec: defaultSwarmSpec() }));
  return s;
}

test('followContacts: nothing while the members are the ones joined through; a manager added is handed over once, then it stops', async () => {
  let members: Member[] = [{ id: 'a', name: 'n1', peerUrls: [], clientUrls: ['https://10.0.0.1:2379'] }];
  const store = await storeWith(() => members);
  const seen: string[][] = [];
  const stop = followContacts(store, ['https://10.0.0.1:2379'], (c) => seen.push(c.etcdEndpoints), 5);
  await sleep(40);
  if (seen.length) stop();
  assert.deepEqual(seen, []);
  members = [...members, { id: 'b', name: 'n2', peerUrls: [], clientUrls: ['https://10.0.0.2:2379'] }];
  await sleep(40);
  stop();
  assert.deepEqual(seen, [['https://10.0.0.1:2379', 'https://10.0.0.2:2379']]);
  await store.close();
});

test('followContacts: an unanswered read or a member not started yet (no client URL) changes nothing', async () => {
  let fail = true;
  const store = await storeWith(() => {
    if (fail) throw new Error('no quorum');
    return [{ id: 'a', name: 'n1', peerUrls: [], clientUrls: ['https://10.0.0.1:2379'] }, { id: 'c', name: 'n3', peerUrls: ['https://10.0.0.3:2380'], clientUrls: [] }];
  });
  const seen: unknown[] = [];
  const stop = followContacts(store, ['https://10.0.0.1:2379'], (c) => seen.push(c), 5);
  await sleep(30);
  fail = false;
  await sleep(30);
  stop();
  assert.deepEqual(seen, []);
  assert.ok(sameSet(['a', 'b'], ['b', 'a']) && !sameSet(['a'], ['a', 'b']));
  await store.close();
});
