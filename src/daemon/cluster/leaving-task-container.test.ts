import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLeavingTaskContainer } from './leaving-task-container.js';
import { MemoryStore } from './memory-store.js';
import { serviceKey, taskKey, type TaskRecord } from './service-records.js';

const ID = 'abcdefghijklmnopqrstuvwxy';

test('a task container is leaving once its task is not meant to run, its service is gone or its task reaped; other containers never are', async () => {
  const store = new MemoryStore();
  const task = (o: Partial<TaskRecord>): TaskRecord => ({
    id: ID, serviceId: 's1', serviceName: 'web', slot: 1, nodeId: 'n1', desiredState: 'running', specVersion: 1, spec: {}, createdAt: '', updatedAt: '',
    status: { state: 'running', message: '', timestamp: '', containerStatus: { containerId: 'c1' } }, ...o,
  });
  await store.put(serviceKey('s1'), '{}');
  await store.put(taskKey(ID), JSON.stringify(task({})));
  assert.equal(await isLeavingTaskContainer(store, { containerId: 'c1' }), false, 'a running task of a live service');
  assert.equal(await isLeavingTaskContainer(store, { containerId: 'other', name: `/web.1.${ID}` }), false, 'found by its name');
  await store.put(taskKey(ID), JSON.stringify(task({ desiredState: 'shutdown' })));
  assert.equal(await isLeavingTaskContainer(store, { containerId: 'c1' }), true, 'desired shutdown');
  await store.put(taskKey(ID), JSON.stringify(task({})));
  await store.delete(serviceKey('s1'));
  assert.equal(await isLeavingTaskContainer(store, { containerId: 'c1' }), true, 'its service removed, before the reconciler saw it');
  await store.delete(taskKey(ID));
  assert.equal(await isLeavingTaskContainer(store, { containerId: 'c1', name: `web.1.${ID}` }), true, 'its task reaped');
  assert.equal(await isLeavingTaskContainer(store, { containerId: 'c2', name: 'standalone' }), false, 'a standalone container');
  assert.equal(await isLeavingTaskContainer(store, { containerId: 'c3' }), false, 'a lease of an unknown container');
  await store.close();
});
