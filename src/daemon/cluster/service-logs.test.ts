import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory-store.js';
import { serviceLogs, swarmPortOf } from './service-logs.js';
import { serviceKey, taskKey, type ServiceRecord, type TaskRecord } from './service-records.js';
import { heartbeatKey, nodeKey, type NodeRecord } from './swarm-objects.js';
import type { TaskLogLine, TaskLogQuery } from './task-log-source.js';

const Q: TaskLogQuery = { follow: false, stdout: true, stderr: true };

async function* lines(tasks: string[]): AsyncGenerator<TaskLogLine> {
  for (const taskId of tasks) yield { taskId, entry: { stream: 'stdout', time: '2026-01-01T00:00:00.000000000Z', log: `hi from ${taskId}\n` } };
}

async function cluster() {
  const store = new MemoryStore();
  const service: ServiceRecord = { id: 's1', createdAt: '', updatedAt: '', specVersion: 1, spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' } } } };
  await store.put(serviceKey('s1'), JSON.stringify(service));
  const node = (id: string, addr: string, managerAddr?: string): NodeRecord => ({
    id, createdAt: '', updatedAt: '', spec: { Role: managerAddr ? 'manager' : 'worker', Availability: 'active', Labels: {} }, addr, ...(managerAddr ? { managerAddr } : {}),
    description: { Hostname: `host-${id}` } as NodeRecord['description'],
  });
  for (const [id, addr, m] of [['n1', '10.0.0.1', '10.0.0.1:2377'], ['n2', '10.0.0.2'], ['n3', '10.0.0.3']] as const) await store.put(nodeKey(id), JSON.stringify(node(id, addr, m)));
  for (const id of ['n1', 'n2']) await store.put(heartbeatKey(id), '1');
  const task = (id: string, nodeId: string, slot: number): TaskRecord => ({
    id, serviceId: 's1', serviceName: 'web', slot, nodeId, desiredState: 'running', specVersion: 1, spec: {}, createdAt: '', updatedAt: '',
    status: { state: 'running', message: '', timestamp: '' },
  });
  for (const [id, n, slot] of [['t1', 'n1', 1], ['t2', 'n2', 2], ['t3', 'n3', 3]] as const) await store.put(taskKey(id), JSON.stringify(task(id, n, slot)));
  // an ended task: its container's lines count while the container exists
  await store.put(taskKey('t4'), JSON.stringify({ ...task('t4', 'n2', 2), desiredState: 'shutdown', status: { state: 'complete', message: '', timestamp: '' } }));
  return store;
}

test('service logs: this node\'s tasks read locally (ended ones too), another live node\'s asked on its swarm port, a down node a warning; each line with its details', async () => {
  const store = await cluster();
  const asked: { nodeId: string; addr: string; tasks: string[] }[] = [];
  const { tty, entries } = await serviceLogs({ service: 'web' }, Q, new AbortController().signal, {
    store, self: 'n1',
    local: (ids) => lines(ids),
    remote: (target, ids) => { asked.push({ ...target, tasks: ids }); return lines(ids); },
  });
  assert.equal(tty, false);
  const got: { log: string; attrs?: Record<string, string>; stream: string }[] = [];
  for await (const e of entries) got.push(e);
  assert.deepEqual(asked, [{ nodeId: 'n2', addr: '10.0.0.2:2377', tasks: ['t2', 't4'] }]);
  const byTask = (id: string) => got.filter((e) => e.attrs?.['com.docker.swarm.task.id'] === id);
  assert.deepEqual(byTask('t1').map((e) => e.log), ['hi from t1\n']);
  assert.deepEqual(byTask('t2')[0]!.attrs, { 'com.docker.swarm.node.id': 'n2', 'com.docker.swarm.service.id': 's1', 'com.docker.swarm.task.id': 't2' });
  assert.deepEqual(Object.keys(byTask('t2')[0]!.attrs!), ['com.docker.swarm.node.id', 'com.docker.swarm.service.id', 'com.docker.swarm.task.id']);
  const warn = byTask('t3');
  assert.equal(warn.length, 1);
  assert.equal(warn[0]!.stream, 'stderr');
  assert.match(warn[0]!.log, /^warning: the logs of node host-n3 are left out: the node is down\n$/);
  assert.equal(got.length, 4);
  await store.close();
});

test('service logs: a node that fails mid-way is a warning; a task selects its own lines; unknown refs are dockerd\'s 404s', async () => {
  const store = await cluster();
  const deps = {
    store, self: 'n1', local: (ids: string[]) => lines(ids),
    remote: async function* (): AsyncGenerator<TaskLogLine> { throw new Error('connection refused'); },
  };
  const all: string[] = [];
  for await (const e of (await serviceLogs({ service: 's1' }, Q, new AbortController().signal, deps)).entries) all.push(e.log);
  assert.ok(all.includes('warning: the logs of node host-n2 are left out: connection refused\n'), all.join(''));
  const one: string[] = [];
  for await (const e of (await serviceLogs({ task: 't1' }, Q, new AbortController().signal, deps)).entries) one.push(e.log);
  assert.deepEqual(one, ['hi from t1\n']);
  await assert.rejects(serviceLogs({ service: 'nope' }, Q, new AbortController().signal, deps), /^NotFound.*|service nope not found/);
  await assert.rejects(serviceLogs({ task: 'nope' }, Q, new AbortController().signal, deps), /task nope not found/);
  assert.equal(swarmPortOf({ addr: '10.0.0.9' } as NodeRecord), '10.0.0.9:2377');
  await store.close();
});

test('service logs -f: a task the service starts later is followed from its first line once it runs; another service\'s task is not', async () => {
  const store = await cluster();
  const ac = new AbortController();
  const { entries } = await serviceLogs({ service: 'web' }, { ...Q, follow: true, tail: 1 }, ac.signal, {
    store, self: 'n1',
    local: (ids, q) => { assert.equal(q.tail, ids.includes('t5') ? undefined : 1); return lines(ids); },
    remote: (_target, ids) => lines(ids),
  });
  const got: string[] = [];
  const reading = (async () => {
    for await (const e of entries) {
      got.push(e.log);
      if (e.log === 'hi from t5\n') ac.abort();
    }
  })();
  const later = (id: string, serviceId: string, state: TaskRecord['status']['state']): TaskRecord => ({
    id, serviceId, serviceName: 'x', slot: 4, nodeId: 'n1', desiredState: 'running', specVersion: 1, spec: {}, createdAt: '', updatedAt: '',
    status: { state, message: '', timestamp: '' },
  });
  await store.put(taskKey('t5'), JSON.stringify(later('t5', 's1', 'assigned')));
  await store.put(taskKey('t6'), JSON.stringify(later('t6', 'other', 'running')));
  await store.put(taskKey('t5'), JSON.stringify(later('t5', 's1', 'running')));
  await reading;
  assert.ok(got.includes('hi from t5\n'), got.join(''));
  assert.ok(!got.includes('hi from t6\n'));
  assert.equal(got.filter((l) => l === 'hi from t5\n').length, 1);
  await store.close();
});
