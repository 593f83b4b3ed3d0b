import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orchestrate, newTask, type OrchestratorInput, type Versioned } from './orchestrator.js';
import type { NodeInfo } from './placement.js';
import type { ServiceRecord, TaskRecord } from './service-records.js';
import type { ServiceSpecView, TaskState } from '../../api/types/index.js';

const NOW = Date.parse('2026-01-01T00:01:00Z');

function node(id: string, o: Partial<NodeInfo> = {}): NodeInfo {
  return { id, hostname: id, role: 'worker', availability: 'active', ready: true, labels: {}, engineLabels: {}, nanoCpus: 2e9, memoryBytes: 4e9, os: 'linux', arch: 'x86_64', ...o };
}

function service(spec: ServiceSpecView, o: Partial<ServiceRecord> = {}): Versioned<ServiceRecord> {
  return { record: { id: 'svc', createdAt: '', updatedAt: '', specVersion: 1, spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, ...spec }, ...o }, modRevision: 10 };
}

let seq = 0;
function task(o: Partial<TaskRecord> & { state?: TaskState; at?: number }): Versioned<TaskRecord> {
  const at = new Date(o.at ?? NOW - 30_000).toISOString();
  const t: TaskRecord = {
    id: o.id ?? `t${++seq}`, serviceId: 'svc', serviceName: 'web', desiredState: 'running', specVersion: 1, spec: {}, createdAt: at, updatedAt: at,
    status: { state: o.state ?? 'running', message: '', timestamp: at }, nodeId: 'n1', ...o,
  };
  return { record: t, modRevision: 20 + seq };
}

function run(o: Partial<OrchestratorInput>) {
  let n = 0;
  return orchestrate({ services: [], tasks: [], nodes: [node('n1'), node('n2'), node('n3')], historyLimit: 5, now: NOW, newId: () => `new${++n}`, ...o });
}

test('replicated: the missing slots 1..N get pending tasks with no node', () => {
  const { plans } = run({ services: [service({ Mode: { Replicated: { Replicas: 3 } } })], tasks: [task({ slot: 2 })] });
  assert.equal(plans.length, 1);
  assert.deepEqual(plans[0]!.creates.map((t) => [t.slot, t.nodeId, t.status.state, t.desiredState]), [[1, undefined, 'pending', 'running'], [3, undefined, 'pending', 'running']]);
  assert.equal(plans[0]!.serviceRevision, 10);
});

test('replicated: a converged service needs no write', () => {
  const tasks = [1, 2, 3].map((slot) => task({ slot }));
  assert.deepEqual(run({ services: [service({ Mode: { Replicated: { Replicas: 3 } } })], tasks }).plans, []);
});

test('scale down removes the tasks above the replica count, highest slot first', () => {
  const tasks = [1, 2, 3, 4, 5].map((slot) => task({ slot, id: `s${slot}` }));
  const [p] = run({ services: [service({ Mode: { Replicated: { Replicas: 2 } } })], tasks }).plans;
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState]), [['s5', 'remove'], ['s4', 'remove'], ['s3', 'remove']]);
  assert.deepEqual(p!.creates, []);
});

test('a failed task is replaced in its slot once the restart delay has passed (condition any)', () => {
  const svc = service({ Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Delay: 5e9 } } });
  const early = run({ services: [svc], tasks: [task({ slot: 1, id: 'f', state: 'failed', at: NOW - 2000 })] });
  assert.deepEqual(early.plans, []);
  assert.equal(early.wakeAt, NOW + 3000);
  const [p] = run({ services: [svc], tasks: [task({ slot: 1, id: 'f', state: 'failed', at: NOW - 6000 })] }).plans;
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState]), [['f', 'shutdown']]);
  assert.deepEqual(p!.creates.map((t) => t.slot), [1]);
});

test('restart conditions: none never restarts; on-failure leaves a complete task; max attempts in the window', () => {
  const spec = (RestartPolicy: object) => service({ Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy } });
  assert.deepEqual(run({ services: [spec({ Condition: 'none', Delay: 0 })], tasks: [task({ slot: 1, state: 'failed' })] }).plans, []);
  assert.deepEqual(run({ services: [spec({ Condition: 'on-failure', Delay: 0 })], tasks: [task({ slot: 1, state: 'complete' })] }).plans, []);
  assert.equal(run({ services: [spec({ Condition: 'on-failure', Delay: 0 })], tasks: [task({ slot: 1, state: 'failed' })] }).plans[0]!.creates.length, 1);
  const history = [task({ slot: 1, state: 'failed', desiredState: 'shutdown' }), task({ slot: 1, state: 'failed', desiredState: 'shutdown' })];
  const exhausted = run({ services: [spec({ MaxAttempts: 2, Delay: 0 })], tasks: [...history, task({ slot: 1, state: 'failed' })] });
  assert.deepEqual(exhausted.plans.flatMap((p) => p.creates), []);
  // outside a 10 s window the earlier failures do not count
  const windowed = run({ services: [spec({ MaxAttempts: 2, Delay: 0, Window: 10e9 })], tasks: [...history, task({ slot: 1, state: 'failed' })] });
  assert.equal(windowed.plans[0]!.creates.length, 1);
});

test('a task on a node that is down is shut down (orphaned) and replaced; on a drained node, shut down and replaced', () => {
  const svc = service({ Mode: { Replicated: { Replicas: 2 } } });
  const nodes = [node('n1', { ready: false }), node('n2', { availability: 'drain' }), node('n3')];
  const [p] = run({ services: [svc], nodes, tasks: [task({ slot: 1, id: 'a', nodeId: 'n1' }), task({ slot: 2, id: 'b', nodeId: 'n2' })] }).plans;
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState, u.record.status.state]), [['a', 'shutdown', 'orphaned'], ['b', 'shutdown', 'running']]);
  assert.deepEqual(p!.creates.map((t) => t.slot).sort(), [1, 2]);
});

test('a spec change replaces one task at a time: the next once the new one runs', () => {
  const svc = service({ Mode: { Replicated: { Replicas: 3 } } }, { specVersion: 2 });
  const old = [1, 2, 3].map((slot) => task({ slot, id: `o${slot}` }));
  const [p] = run({ services: [svc], tasks: old }).plans;
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState]), [['o1', 'shutdown']]);
  assert.deepEqual(p!.creates.map((t) => [t.slot, t.specVersion]), [[1, 2]]);
  // the replacement is still starting: nothing more
  const inFlight = [{ ...old[0]!, record: { ...old[0]!.record, desiredState: 'shutdown' as const } }, task({ slot: 1, specVersion: 2, state: 'starting' }), old[1]!, old[2]!];
  assert.deepEqual(run({ services: [svc], tasks: inFlight }).plans.flatMap((x) => x.creates), []);
});

test('global: one task per ready, active node meeting the constraints; none on a paused node, shut down on a drained one', () => {
  const svc = service({ Mode: { Global: {} }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: { Constraints: ['node.labels.zone!=b'] } } });
  const nodes = [node('n1'), node('n2', { labels: { zone: 'b' } }), node('n3', { availability: 'pause' }), node('n4', { availability: 'drain' }), node('n5', { ready: false })];
  const [p] = run({ services: [svc], nodes, tasks: [task({ nodeId: 'n4', id: 'd' })] }).plans;
  assert.deepEqual(p!.creates.map((t) => [t.nodeId, t.slot]), [['n1', undefined]]);
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState]), [['d', 'shutdown']]);
});

test('tasks of a removed service are set to remove, and deleted once their container is gone', () => {
  const { plans } = run({ tasks: [task({ id: 'live' }), task({ id: 'done', desiredState: 'remove', state: 'shutdown' })] });
  assert.deepEqual(plans[0]!.updates.map((u) => [u.record.id, u.record.desiredState]), [['live', 'remove']]);
  assert.deepEqual(plans[0]!.deletes.map((d) => d.id), ['done']);
  assert.equal(plans[0]!.serviceRevision, 0);
});

test('history: per slot the newest tasks are kept up to the retention limit, the live one included', () => {
  const dead = [1, 2, 3, 4].map((i) => task({ slot: 1, id: `d${i}`, desiredState: 'shutdown', state: 'shutdown', at: NOW - 100_000 + i * 1000 }));
  const [p] = run({ services: [service({ Mode: { Replicated: { Replicas: 1 } } })], tasks: [...dead, task({ slot: 1 })], historyLimit: 3 }).plans;
  assert.deepEqual(p!.deletes.map((d) => d.id).sort(), ['d1', 'd2']);
});

test('newTask copies the template and the spec version', () => {
  const s = service({ TaskTemplate: { ContainerSpec: { Image: 'busybox', Env: ['A=1'] } } }, { specVersion: 7 }).record;
  const t = newTask(s, 'x', NOW, { slot: 4 });
  assert.deepEqual([t.spec.ContainerSpec?.Env, t.specVersion, t.slot, t.serviceName], [['A=1'], 7, 4, 'web']);
  s.spec.TaskTemplate!.ContainerSpec!.Env!.push('B=2');
  assert.deepEqual(t.spec.ContainerSpec?.Env, ['A=1']);
});
