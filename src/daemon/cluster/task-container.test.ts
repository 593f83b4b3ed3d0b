import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskRecord } from './service-records.js';
import { taskContainerRequest } from './task-container.js';

const task = (networks?: TaskRecord['spec']['Networks']): TaskRecord => ({
  id: 't1', serviceId: 's1', serviceName: 'web', slot: 1, nodeId: 'n1', desiredState: 'running', specVersion: 1,
  status: { state: 'assigned', message: '', timestamp: '' }, createdAt: '', updatedAt: '',
  spec: { ContainerSpec: { Image: 'busybox' }, ...(networks ? { Networks: networks } : {}) },
});

test('a task without networks gets no network mode (the default bridge)', () => {
  const r = taskContainerRequest(task(), 'n1');
  assert.equal(r.HostConfig?.NetworkMode, undefined);
  assert.equal(r.NetworkingConfig, undefined);
});

test('a task on networks: the first is the network mode; every endpoint answers to the service name and tasks.<name>', () => {
  const r = taskContainerRequest(task([{ Target: 'net1' }, { Target: 'net2', Aliases: ['db'] }]), 'n1');
  assert.equal(r.HostConfig?.NetworkMode, 'net1');
  assert.deepEqual(r.NetworkingConfig?.EndpointsConfig, {
    net1: { Aliases: ['web', 'tasks.web'] },
    net2: { Aliases: ['web', 'tasks.web', 'db'] },
  });
});
