import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterEvents, type ClusterEventAction, type ClusterEventType } from './cluster-events.js';
import { LEADER_KEY } from './leader-election.js';
import { MemoryStore } from './memory-store.js';
import { swarmFileKey } from './secret-objects.js';
import { serviceKey, type ServiceRecord } from './service-records.js';
import { heartbeatKey, nodeDescription, nodeKey, type NodeRecord } from './swarm-objects.js';

type Told = [ClusterEventType, ClusterEventAction, string, Record<string, string>];

const node = (id: string, over: Partial<NodeRecord['spec']> = {}): string => JSON.stringify({
  id, createdAt: '', updatedAt: '', spec: { Labels: {}, Role: 'worker', Availability: 'active', ...over },
  description: nodeDescription({ hostname: `host-${id}`, engineVersion: 'x', ncpu: 2, memTotal: 4e9 }), addr: '10.0.0.1',
} satisfies NodeRecord);

const service = (replicas: number, image: string, extra: Partial<ServiceRecord> = {}): string => JSON.stringify({
  id: 'svc', createdAt: '', updatedAt: '', specVersion: 1,
  spec: { Name: 'web', Mode: { Replicated: { Replicas: replicas } }, TaskTemplate: { ContainerSpec: { Image: image } } }, ...extra,
} satisfies ServiceRecord);

async function until(told: Told[], n: number): Promise<void> {
  for (let i = 0; i < 200 && told.length < n; i++) await sleep(10);
}

test('a manager tells services, nodes and secrets created, updated and removed, with the attributes dockerd adds', async () => {
  const store = new MemoryStore();
  await store.put(nodeKey('n1'), node('n1', { Role: 'manager' }));
  await store.put(nodeKey('n2'), node('n2'));
  await store.put(heartbeatKey('n2'), '');
  await store.put(LEADER_KEY, 'n1');
  const told: Told[] = [];
  const ev = new ClusterEvents(store, (...e) => told.push(e), () => {});
  ev.start();
  try {
    await sleep(50); // what was there before is not told
    assert.deepEqual(told, []);
    await store.put(serviceKey('svc'), service(1, 'busybox'));
    await store.put(serviceKey('svc'), service(3, 'busybox:2', { updateStatus: { state: 'updating', startedAt: '', message: '' } }));
    await store.delete(serviceKey('svc'));
    await store.put(swarmFileKey('secret', 's1'), JSON.stringify({ id: 's1', createdAt: '', updatedAt: '', name: 'pw', labels: {}, data: '' }));
    await store.put(heartbeatKey('n2'), ''); // a renewal: nothing to tell
    await store.delete(heartbeatKey('n2'));
    await store.put(nodeKey('n2'), node('n2', { Availability: 'drain' }));
    await store.put(LEADER_KEY, 'n2');
    await until(told, 8);
    assert.deepEqual(told, [
      ['service', 'create', 'svc', { name: 'web' }],
      ['service', 'update', 'svc', { name: 'web', 'image.old': 'busybox', 'image.new': 'busybox:2', 'replicas.old': '1', 'replicas.new': '3', 'updatestate.new': 'updating' }],
      ['service', 'remove', 'svc', { name: 'web' }],
      ['secret', 'create', 's1', { name: 'pw' }],
      ['node', 'update', 'n2', { name: 'host-n2', 'state.old': 'ready', 'state.new': 'down' }],
      ['node', 'update', 'n2', { name: 'host-n2', 'availability.old': 'active', 'availability.new': 'drain' }],
      ['node', 'update', 'n1', { name: 'host-n1', 'leader.old': 'true', 'leader.new': 'false' }],
      ['node', 'update', 'n2', { name: 'host-n2', 'leader.old': 'false', 'leader.new': 'true' }],
    ]);
  } finally {
    await ev.stop();
    await store.close();
  }
});
