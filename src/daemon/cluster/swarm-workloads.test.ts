import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory-store.js';
import { LeaderElection, Leadership } from './leader-election.js';
import { SwarmWorkloads } from './swarm-workloads.js';
import { serviceKey, TASKS_PREFIX, type ServiceRecord, type TaskRecord } from './service-records.js';
import { CLUSTER_KEY, defaultSwarmSpec, heartbeatKey, nodeDescription, nodeKey, type NodeRecord } from './swarm-objects.js';

const until = async (what: string, cond: () => Promise<boolean>, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) { if (await cond()) return; await new Promise((r) => setTimeout(r, 25)); }
  assert.fail(`${what} not within ${ms} ms`);
};

test('the reconciler runs on the manager that leads only, and moves with leadership', async () => {
  const store = new MemoryStore();
  await store.put(CLUSTER_KEY, JSON.stringify({ spec: defaultSwarmSpec() }));
  for (const id of ['m1', 'm2']) {
    const rec: NodeRecord = { id, createdAt: '', updatedAt: '', spec: { Labels: {}, Role: 'manager', Availability: 'active' }, description: nodeDescription({ hostname: id, engineVersion: 'x', ncpu: 1, memTotal: 1e9 }), addr: '' };
    await store.put(nodeKey(id), JSON.stringify(rec));
    await store.put(heartbeatKey(id), '');
  }
  const lead = [new Leadership(), new Leadership()];
  const elections = [new LeaderElection(store, 'm1', lead[0]!, { ttlSeconds: 1 }), new LeaderElection(store, 'm2', lead[1]!, { ttlSeconds: 1 })];
  const workloads = lead.map((l) => new SwarmWorkloads(undefined, l, () => {}));
  workloads[0]!.open(store, 'm1', 'manager');
  workloads[1]!.open(store, 'm2', 'manager');
  await elections[0]!.start({ wait: true });
  await elections[1]!.start({ wait: true });
  assert.equal(lead[0]!.isLeader, true);

  const svc: ServiceRecord = { id: 's', createdAt: '', updatedAt: '', specVersion: 1, spec: { Name: 'web', Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' } } } };
  await store.put(serviceKey('s'), JSON.stringify(svc));
  const tasks = async () => (await store.list(TASKS_PREFIX)).items.map((kv) => JSON.parse(kv.value) as TaskRecord);
  await until('two tasks assigned', async () => (await tasks()).filter((t) => t.status.state === 'assigned').length === 2);

  // m1 resigns: m2 takes over and acts on the next change
  await elections[0]!.stop();
  await until('m2 leads', async () => lead[1]!.isLeader);
  svc.spec.Mode = { Replicated: { Replicas: 3 } };
  await store.put(serviceKey('s'), JSON.stringify(svc));
  await until('three tasks', async () => (await tasks()).length === 3);
  assert.equal((await tasks()).length, 3, 'no duplicate from the old leader');

  await elections[1]!.stop();
  for (const w of workloads) await w.close();
  await store.close();
});

test('leaving: every task container is removed with its files, others are left alone', async () => {
  const removed: string[] = [];
  const cleaned: string[] = [];
  const containers = {
    ready: async () => {},
    list: () => [{ id: 'c1', taskId: 't1', running: true, started: true, exitCode: 0, pid: 1 }, { id: 'c2', taskId: 't2', running: false, started: true, exitCode: 1, pid: 0 }],
    ensureImage: async (ref: string) => ref,
    cleanupFiles: async (taskId: string) => { cleaned.push(taskId); },
    create: async () => 'x',
    start: async () => {},
    stop: async () => {},
    remove: async (id: string) => { removed.push(id); },
    onExit: () => () => {},
  };
  const w = new SwarmWorkloads(containers, new Leadership(), () => {});
  await w.removeTaskContainers();
  assert.deepEqual([removed.sort(), cleaned.sort()], [['c1', 'c2'], ['t1', 't2']]);
});
