import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory-store.js';
import { Reconciler } from './reconciler.js';
import { serviceKey, TASKS_PREFIX, type ServiceRecord, type TaskRecord } from './service-records.js';
import { CLUSTER_KEY, defaultSwarmSpec, heartbeatKey, nodeDescription, nodeKey, type NodeRecord } from './swarm-objects.js';

const quiet = () => {};

async function swarmWith3Nodes(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.put(CLUSTER_KEY, JSON.stringify({ spec: defaultSwarmSpec() }));
  for (const id of ['n1', 'n2', 'n3']) {
    const rec: NodeRecord = {
      id, createdAt: '', updatedAt: '', spec: { Labels: {}, Role: id === 'n1' ? 'manager' : 'worker', Availability: 'active' },
      description: nodeDescription({ hostname: id, engineVersion: 'x', ncpu: 2, memTotal: 4e9 }), addr: '10.0.0.1',
    };
    await store.put(nodeKey(id), JSON.stringify(rec));
    await store.put(heartbeatKey(id), '');
  }
  const svc: ServiceRecord = { id: 'svc', createdAt: '', updatedAt: '', specVersion: 1, spec: { Name: 'web', Mode: { Replicated: { Replicas: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' } } } };
  await store.put(serviceKey('svc'), JSON.stringify(svc));
  return store;
}

const tasksIn = async (store: MemoryStore) => (await store.list(TASKS_PREFIX)).items.map((kv) => JSON.parse(kv.value) as TaskRecord);

test('two managers deciding from the same read never both create a slot\'s task', async () => {
  const store = await swarmWith3Nodes();
  const a = new Reconciler(store, { log: quiet });
  const b = new Reconciler(store, { log: quiet });
  for (let i = 0; i < 4; i++) await Promise.all([a.pass(), b.pass()]);
  const live = (await tasksIn(store)).filter((t) => t.desiredState === 'running');
  assert.deepEqual(live.map((t) => t.slot).sort(), [1, 2, 3]);
  assert.equal((await tasksIn(store)).length, 3, 'no extra task was ever written');
  // and the scheduler's assignments: each task on one node, spread
  assert.deepEqual(live.map((t) => t.nodeId).sort(), ['n1', 'n2', 'n3']);
  assert.ok(live.every((t) => t.status.state === 'assigned'));
});

test('the loop follows the store; after stop() it writes nothing more', async () => {
  const store = await swarmWith3Nodes();
  const r = new Reconciler(store, { log: quiet, debounceMs: 10, tickMs: 50 });
  r.start();
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && (await tasksIn(store)).filter((t) => t.status.state === 'assigned').length < 3) await new Promise((res) => setTimeout(res, 20));
  assert.equal((await tasksIn(store)).filter((t) => t.status.state === 'assigned').length, 3);
  await r.stop();
  const svc = JSON.parse((await store.get(serviceKey('svc')))!.value) as ServiceRecord;
  svc.spec.Mode = { Replicated: { Replicas: 5 } };
  await store.put(serviceKey('svc'), JSON.stringify(svc));
  await new Promise((res) => setTimeout(res, 300));
  assert.equal((await tasksIn(store)).length, 3, 'a manager that stepped down does not act');
  r.start();
  const d2 = Date.now() + 3000;
  while (Date.now() < d2 && (await tasksIn(store)).length < 5) await new Promise((res) => setTimeout(res, 20));
  assert.equal((await tasksIn(store)).length, 5, 'leading again, it scales');
  await r.stop();
  await store.close();
});
