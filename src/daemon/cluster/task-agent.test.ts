import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory-store.js';
import { TaskAgent, type TaskContainer, type TaskContainers } from './task-agent.js';
import { taskKey, type TaskRecord } from './service-records.js';
import type { ContainerCreateRequest, TaskState } from '../../api/types/index.js';

/** This node's containers, in memory: `exit(id, code)` plays a container ending. */
class FakeContainers implements TaskContainers {
  prepareFiles?: TaskContainers['prepareFiles'];
  cleanupFiles?: TaskContainers['cleanupFiles'];
  readonly all = new Map<string, TaskContainer & { name: string; req: ContainerCreateRequest }>();
  private readonly exits = new Set<(id: string) => void>();
  images = new Set(['busybox']);
  pulled: string[] = [];
  private n = 0;
  ready = async () => {};
  list = () => [...this.all.values()].map((c) => ({ ...c }));
  async ensureImage(ref: string) {
    if (!this.images.has(ref)) { this.pulled.push(ref); if (ref === 'missing') throw new Error('No such image: missing'); }
    return ref;
  }
  async create(req: ContainerCreateRequest, name: string) {
    const id = `c${++this.n}`;
    this.all.set(id, { id, name, req, taskId: req.Labels!['com.docker.swarm.task.id']!, running: false, started: false, exitCode: 0, pid: 0 });
    return id;
  }
  async start(id: string) { Object.assign(this.all.get(id)!, { running: true, started: true, pid: 42 }); }
  async stop(id: string) { this.exit(id, 137); }
  async remove(id: string) { this.all.delete(id); }
  onExit(fn: (id: string) => void) { this.exits.add(fn); return () => this.exits.delete(fn); }
  exit(id: string, code: number) {
    Object.assign(this.all.get(id)!, { running: false, exitCode: code });
    for (const fn of this.exits) fn(id);
  }
}

const NOW = new Date().toISOString();
function task(id: string, o: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id, serviceId: 'svc', serviceName: 'web', slot: 1, nodeId: 'me', desiredState: 'running', specVersion: 1,
    spec: { ContainerSpec: { Image: 'busybox', Args: ['sleep', '60'], Env: ['A=1'] } }, createdAt: NOW, updatedAt: NOW,
    status: { state: 'assigned', message: '', timestamp: NOW }, ...o,
  };
}

const read = async (store: MemoryStore, id: string) => JSON.parse((await store.get(taskKey(id)))!.value) as TaskRecord;
async function until(what: string, cond: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) { if (await cond()) return; await new Promise((r) => setTimeout(r, 20)); }
  assert.fail(what);
}
const stateIs = (store: MemoryStore, id: string, s: TaskState) => async () => (await read(store, id)).status.state === s;

test('an assigned task runs as web.1.<id> with the swarm labels; its exit is reported failed with the code', async () => {
  const store = new MemoryStore();
  const fake = new FakeContainers();
  await store.put(taskKey('t1'), JSON.stringify(task('t1')));
  await store.put(taskKey('other'), JSON.stringify(task('other', { nodeId: 'someone-else' })));
  const agent = new TaskAgent(store, 'me', fake, { log: () => {}, tickMs: 100 });
  agent.start();
  await until('t1 running', stateIs(store, 't1', 'running'));
  const [c] = fake.list();
  assert.equal(fake.all.size, 1, 'only this node\'s task');
  const made = fake.all.get(c!.id)!;
  assert.equal(made.name, 'web.1.t1');
  assert.deepEqual(made.req.Cmd, ['sleep', '60']);
  assert.equal(made.req.Labels!['com.docker.swarm.service.name'], 'web');
  assert.equal(made.req.Labels!['com.docker.swarm.node.id'], 'me');
  assert.equal((await read(store, 't1')).status.containerStatus?.containerId, c!.id);
  fake.exit(c!.id, 3);
  await until('t1 failed', stateIs(store, 't1', 'failed'));
  assert.equal((await read(store, 't1')).status.err, 'task: non-zero exit (3)');
  await agent.stop();
  await store.close();
});

test('desired shutdown stops the container; remove removes it; a container whose task is gone is removed', async () => {
  const store = new MemoryStore();
  const fake = new FakeContainers();
  for (const id of ['a', 'b', 'c']) await store.put(taskKey(id), JSON.stringify(task(id)));
  const agent = new TaskAgent(store, 'me', fake, { log: () => {}, tickMs: 100 });
  agent.start();
  await until('all running', async () => (await Promise.all(['a', 'b', 'c'].map((id) => read(store, id)))).every((t) => t.status.state === 'running'));
  await store.put(taskKey('a'), JSON.stringify({ ...(await read(store, 'a')), desiredState: 'shutdown' }));
  await store.put(taskKey('b'), JSON.stringify({ ...(await read(store, 'b')), desiredState: 'remove' }));
  await store.delete(taskKey('c'));
  await until('a shut down', stateIs(store, 'a', 'shutdown'));
  await until('b shut down', stateIs(store, 'b', 'shutdown'));
  await until('b and c removed', () => fake.all.size === 1);
  assert.equal(fake.list()[0]!.taskId, 'a');
  assert.equal(fake.list()[0]!.running, false);
  await agent.stop();
  await store.close();
});

test('an image that cannot be had rejects the task with the error; after a restart, a running container is matched to its task again', async () => {
  const store = new MemoryStore();
  const fake = new FakeContainers();
  await store.put(taskKey('x'), JSON.stringify(task('x', { spec: { ContainerSpec: { Image: 'missing' } } })));
  // the daemon restarted while this task's container kept running
  const id = await fake.create({ Image: 'busybox', Labels: { 'com.docker.swarm.task.id': 'y' } }, 'web.2.y');
  await fake.start(id);
  await store.put(taskKey('y'), JSON.stringify(task('y', { slot: 2, status: { state: 'starting', message: '', timestamp: NOW } })));
  const agent = new TaskAgent(store, 'me', fake, { log: () => {}, tickMs: 100 });
  agent.start();
  await until('x rejected', stateIs(store, 'x', 'rejected'));
  assert.equal((await read(store, 'x')).status.err, 'No such image: missing');
  await until('y running', stateIs(store, 'y', 'running'));
  assert.equal(fake.all.size, 1, 'no second container for y');
  await agent.stop();
  await store.close();
});

test('a task\'s secret files are bound into its container, and removed with it or when its create fails', async () => {
  const store = new MemoryStore();
  const fake = new FakeContainers();
  const prepared: string[] = [];
  const cleaned: string[] = [];
  fake.prepareFiles = async (t: TaskRecord) => {
    prepared.push(t.id);
    return [{ Type: 'bind' as const, Source: `/files/${t.id}/0-s1`, Target: '/run/secrets/pw', ReadOnly: true }];
  };
  fake.cleanupFiles = async (taskId: string) => { cleaned.push(taskId); };
  await store.put(taskKey('s'), JSON.stringify(task('s')));
  await store.put(taskKey('bad'), JSON.stringify(task('bad', { slot: 2, spec: { ContainerSpec: { Image: 'missing' } } })));
  const agent = new TaskAgent(store, 'me', fake, { log: () => {}, tickMs: 100 });
  agent.start();
  await until('s running', stateIs(store, 's', 'running'));
  await until('bad rejected', stateIs(store, 'bad', 'rejected'));
  assert.deepEqual(fake.list().map((c) => fake.all.get(c.id)!.req.HostConfig?.Mounts), [[{ Type: 'bind', Source: '/files/s/0-s1', Target: '/run/secrets/pw', ReadOnly: true }]]);
  assert.deepEqual(cleaned, ['bad'], 'a failed preparation leaves no files');
  await store.put(taskKey('s'), JSON.stringify({ ...(await read(store, 's')), desiredState: 'remove' }));
  await until('s removed', () => fake.all.size === 0);
  await until('s files cleaned', () => cleaned.includes('s'));
  assert.deepEqual(prepared, ['s'], 'the image is had before any file is made');
  await agent.stop();
  await store.close();
});

test('a task desired ready gets its container created but not started (reported ready); desired running then starts it', async () => {
  const store = new MemoryStore();
  const fake = new FakeContainers();
  await store.put(taskKey('w'), JSON.stringify(task('w', { desiredState: 'ready' })));
  const agent = new TaskAgent(store, 'me', fake, { log: () => {}, tickMs: 100 });
  agent.start();
  await until('w ready', stateIs(store, 'w', 'ready'));
  assert.deepEqual(fake.list().map((c) => [c.taskId, c.started]), [['w', false]]);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fake.list()[0]!.started, false, 'still not started while desired ready');
  await store.put(taskKey('w'), JSON.stringify({ ...(await read(store, 'w')), desiredState: 'running' }));
  await until('w running', stateIs(store, 'w', 'running'));
  assert.deepEqual(fake.list().map((c) => [c.taskId, c.running]), [['w', true]]);
  await agent.stop();
  await store.close();
});

test('with a healthcheck a task stays starting until its container is healthy; an unhealthy one is stopped and failed', async () => {
  const store = new MemoryStore();
  const fake = new FakeContainers();
  const check = { Test: ['CMD', 'true'] };
  // the daemon sets health to starting when a container with a check starts (health-checks.ts)
  const start = fake.start.bind(fake);
  fake.start = async (id: string) => { await start(id); fake.all.get(id)!.health = 'starting'; };
  await store.put(taskKey('h'), JSON.stringify(task('h', { spec: { ContainerSpec: { Image: 'busybox', Healthcheck: check } } })));
  await store.put(taskKey('u'), JSON.stringify(task('u', { slot: 2, spec: { ContainerSpec: { Image: 'busybox', Healthcheck: check } } })));
  const agent = new TaskAgent(store, 'me', fake, { log: () => {}, tickMs: 100 });
  agent.start();
  await until('both starting', async () => (await read(store, 'h')).status.state === 'starting' && (await read(store, 'u')).status.state === 'starting' && fake.all.size === 2);
  const byTask = (id: string) => [...fake.all.values()].find((c) => c.taskId === id)!;
  assert.deepEqual(byTask('h').req.Healthcheck, check, 'the task\'s healthcheck reaches its container');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await read(store, 'h')).status.state, 'starting', 'not running while health is starting');
  byTask('h').health = 'healthy';
  byTask('u').health = 'unhealthy';
  await until('h running', stateIs(store, 'h', 'running'));
  assert.ok((await read(store, 'h')).runningAt);
  await until('u failed', stateIs(store, 'u', 'failed'));
  assert.equal((await read(store, 'u')).status.err, 'dockerexec: unhealthy container');
  assert.equal(byTask('u').running, false, 'the unhealthy container is stopped');
  await agent.stop();
  await store.close();
});
