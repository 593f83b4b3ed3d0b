import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filters } from '../../api/filters.js';
import { MemoryStore } from './memory-store.js';
import { SwarmServices } from './swarm-services.js';
import { taskKey, type TaskRecord } from './service-records.js';
import { CLUSTER_KEY, defaultSwarmSpec } from './swarm-objects.js';
import type { ServiceSpecView } from '../../api/types/index.js';

async function setup() {
  const store = new MemoryStore();
  await store.put(CLUSTER_KEY, JSON.stringify({ spec: defaultSwarmSpec() }));
  return { store, services: new SwarmServices(() => store) };
}

const spec = (o: ServiceSpecView = {}): ServiceSpecView => ({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox', Args: ['sleep', '60'] } }, Mode: { Replicated: { Replicas: 3 } }, ...o });

test('create, then inspect by id, name and id prefix; a second service of that name is refused', async () => {
  const { store, services } = await setup();
  const { ID } = await services.createService(spec());
  for (const ref of [ID, 'web', ID.slice(0, 5)]) assert.equal((await services.inspectService(ref)).ID, ID);
  await assert.rejects(services.createService(spec()), /name conflicts with an existing object/);
  await assert.rejects(services.inspectService('nope'), /service nope not found/);
  await assert.rejects(services.createService({ Name: 'x', TaskTemplate: { ContainerSpec: {} } }), /image reference must be provided/);
  await assert.rejects(services.createService(spec({ Name: 'c', TaskTemplate: { ContainerSpec: { Image: 'b' }, Placement: { Constraints: ['node.role=manager'] } } })), /invalid constraint/);
  await store.close();
});

test('two creates of one name at the same instant: one wins, the other gets swarmkit\'s AlreadyExists; rm frees the name', async () => {
  const { store, services } = await setup();
  // both read the services before either writes: only the name key in the create transaction can tell them apart
  const results = await Promise.allSettled([services.createService(spec()), services.createService(spec({ Name: 'WEB' }))]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.match(String(lost.reason.message), /^rpc error: code = AlreadyExists desc = name conflicts with an existing object: service (web|WEB) already exists$/);
  assert.equal((await services.listServices(new Filters(), false)).length, 1);
  await services.removeService((await services.listServices(new Filters(), false))[0]!.ID);
  assert.equal((await store.list('/berth/swarm/service-names/')).items.length, 0);
  await services.createService(spec());
  await store.close();
});

test('update: the version must be the current one; scaling keeps the spec version, an env change bumps it', async () => {
  const { store, services } = await setup();
  await services.createService(spec());
  const v1 = await services.inspectService('web');
  await assert.rejects(services.updateService('web', v1.Version.Index - 1, v1.Spec), /update out of sequence/);
  await services.updateService('web', v1.Version.Index, { ...v1.Spec, Mode: { Replicated: { Replicas: 5 } } });
  const v2 = await services.inspectService('web');
  assert.equal(v2.Spec.Mode?.Replicated?.Replicas, 5);
  assert.deepEqual(v2.PreviousSpec?.Mode, { Replicated: { Replicas: 3 } });
  const rec = async () => JSON.parse((await store.get(`/berth/swarm/services/${v2.ID}`))!.value) as { specVersion: number };
  assert.equal((await rec()).specVersion, 1);
  const env = structuredClone(v2.Spec);
  env.TaskTemplate!.ContainerSpec!.Env = ['FOO=bar'];
  await services.updateService('web', v2.Version.Index, env);
  assert.equal((await rec()).specVersion, 2);
  const v3 = await services.inspectService('web');
  await assert.rejects(services.updateService('web', v3.Version.Index, { ...v3.Spec, Mode: { Global: {} } }), /service mode change is not allowed/);
  await assert.rejects(services.updateService('web', v3.Version.Index, { ...v3.Spec, Name: 'other' }), /renaming services is not supported/);
  // rollback: the previous spec comes back (the env change undone) with its version, so tasks still on it stay; swarmkit's status
  await services.updateService('web', v3.Version.Index, v3.Spec, { rollback: true });
  const v4 = await services.inspectService('web');
  assert.equal(v4.Spec.TaskTemplate?.ContainerSpec?.Env, undefined);
  assert.equal((await rec()).specVersion, 1);
  assert.deepEqual([v4.UpdateStatus?.State, v4.UpdateStatus?.Message], ['rollback_started', 'manually requested rollback']);
  // the next change gets a version never used (not the rolled-back 2), and clears the update status
  await services.updateService('web', v4.Version.Index, env);
  assert.equal((await rec()).specVersion, 3);
  assert.equal((await services.inspectService('web')).UpdateStatus, undefined);
  const { ID } = await services.createService(spec({ Name: 'fresh' }));
  await assert.rejects(services.updateService(ID, (await services.inspectService(ID)).Version.Index, spec({ Name: 'fresh' }), { rollback: true }), /does not have a previous spec/);
  await store.close();
});

test('tasks: filters by service name, desired state, node, name, and _up-to-date; ServiceStatus counts running tasks on live nodes', async () => {
  const { store, services } = await setup();
  const { ID } = await services.createService(spec({ Mode: { Replicated: { Replicas: 2 } } }));
  const t = (id: string, o: Partial<TaskRecord>): TaskRecord => ({
    id, serviceId: ID, serviceName: 'web', slot: 1, nodeId: 'n1', desiredState: 'running', specVersion: 1, spec: {}, createdAt: '', updatedAt: '',
    status: { state: 'running', message: 'started', timestamp: '' }, ...o,
  });
  await store.put(taskKey('aaa'), JSON.stringify(t('aaa', {})));
  await store.put(taskKey('bbb'), JSON.stringify(t('bbb', { slot: 2, desiredState: 'shutdown', status: { state: 'shutdown', message: '', timestamp: '' } })));
  await store.put(taskKey('ccc'), JSON.stringify(t('ccc', { slot: 2, specVersion: 0 })));
  const ids = async (f: Record<string, string[]>) => (await services.listTasks(new Filters(f))).map((x) => x.ID).sort();
  assert.deepEqual(await ids({ service: ['web'] }), ['aaa', 'bbb', 'ccc']);
  assert.deepEqual(await ids({ 'desired-state': ['running'] }), ['aaa', 'ccc']);
  assert.deepEqual(await ids({ name: ['web.2'] }), ['bbb', 'ccc']);
  assert.deepEqual(await ids({ '_up-to-date': ['true'] }), ['aaa', 'bbb']);
  assert.deepEqual(await ids({ id: ['cc'] }), ['ccc']);
  await assert.rejects(services.listTasks(new Filters({ bogus: ['1'] })), /invalid filter 'bogus'/);
  const [ls] = await services.listServices(new Filters(), true);
  // no node is alive in this store (no heartbeat keys): nothing counts as running
  assert.deepEqual(ls!.ServiceStatus, { RunningTasks: 0, DesiredTasks: 2, CompletedTasks: 0 });
  assert.equal((await services.inspectTask('aa')).Slot, 1);
  await services.removeService('web');
  assert.deepEqual(await services.listServices(new Filters(), false), []);
  await store.close();
});

test('a stack\'s names (underscores) are valid service names, as in swarmkit; a task\'s label filter matches its service\'s labels', async () => {
  const { store, services } = await setup();
  const { ID } = await services.createService(spec({ Name: 'app_web', Labels: { 'com.docker.stack.namespace': 'app' } }));
  for (const bad of ['_web', 'web_', 'a.b', 'x'.repeat(64)]) await assert.rejects(services.createService(spec({ Name: bad })), /name must be (valid as a DNS name component|63 characters or fewer)/);
  const { ID: other } = await services.createService(spec({ Name: 'lone' }));
  const t = (id: string, serviceId: string, serviceName: string): TaskRecord => ({
    id, serviceId, serviceName, slot: 1, nodeId: 'n1', desiredState: 'running', specVersion: 1, spec: {}, createdAt: '', updatedAt: '',
    status: { state: 'running', message: 'started', timestamp: '' },
  });
  await store.put(taskKey('aaa'), JSON.stringify(t('aaa', ID, 'app_web')));
  await store.put(taskKey('bbb'), JSON.stringify(t('bbb', other, 'lone')));
  const ids = async (f: Record<string, string[]>) => (await services.listTasks(new Filters(f))).map((x) => x.ID).sort();
  assert.deepEqual(await ids({ label: ['com.docker.stack.namespace=app'] }), ['aaa']);
  assert.deepEqual(await ids({ label: ['com.docker.stack.namespace'] }), ['aaa']);
  assert.deepEqual(await ids({ label: ['com.docker.stack.namespace=other'] }), []);
  await store.close();
});
