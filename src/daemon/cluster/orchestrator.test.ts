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

test('a failed task is shut down at once; its replacement waits (desired ready) for the restart delay, then starts', () => {
  const svc = service({ Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Delay: 5e9 } } });
  const [p] = run({ services: [svc], tasks: [task({ slot: 1, id: 'f', state: 'failed', at: NOW - 2000 })] }).plans;
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState, u.record.status.state]), [['f', 'shutdown', 'failed']]);
  assert.deepEqual(p!.creates.map((t) => [t.slot, t.desiredState, t.startAfter]), [[1, 'ready', new Date(NOW + 3000).toISOString()]]);
  // the delay still runs: nothing to write, a wake-up when it ends
  const failed = task({ slot: 1, id: 'f', state: 'failed', desiredState: 'shutdown', at: NOW - 2000 });
  const waiting = { record: { ...p!.creates[0]!, status: { ...p!.creates[0]!.status, state: 'ready' as const } }, modRevision: 99 };
  const early = run({ services: [svc], tasks: [failed, waiting] });
  assert.deepEqual(early.plans, []);
  assert.equal(early.wakeAt, NOW + 3000);
  const [q] = run({ services: [svc], tasks: [failed, waiting], now: NOW + 3000 }).plans;
  assert.deepEqual(q!.updates.map((u) => [u.record.id, u.record.desiredState]), [['new1', 'running']]);
  assert.deepEqual(q!.creates, []);
});

test('restart conditions: none never restarts; on-failure leaves a complete task; the slot stays empty on later passes', () => {
  const spec = (RestartPolicy: object) => service({ Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy } });
  const none = run({ services: [spec({ Condition: 'none', Delay: 0 })], tasks: [task({ slot: 1, id: 'f', state: 'failed' })] }).plans[0]!;
  assert.deepEqual([none.updates.map((u) => u.record.desiredState), none.creates], [['shutdown'], []]);
  assert.deepEqual(run({ services: [spec({ Condition: 'none', Delay: 0 })], tasks: [task({ slot: 1, state: 'failed', desiredState: 'shutdown' })] }).plans, []);
  assert.deepEqual(run({ services: [spec({ Condition: 'on-failure', Delay: 0 })], tasks: [task({ slot: 1, state: 'complete' })] }).plans[0]!.creates, []);
  assert.equal(run({ services: [spec({ Condition: 'on-failure', Delay: 0 })], tasks: [task({ slot: 1, state: 'failed' })] }).plans[0]!.creates.length, 1);
  // a new spec (service update, --force) fills a slot left empty by the policy
  const changed = { ...spec({ Condition: 'none' }), record: { ...spec({ Condition: 'none' }).record, specVersion: 2 } };
  assert.equal(run({ services: [changed], tasks: [task({ slot: 1, state: 'failed', desiredState: 'shutdown' })] }).plans[0]!.creates[0]!.desiredState, 'running');
  // a slot whose last task was shut down by the managers (not ended on its own) is filled at once
  assert.equal(run({ services: [spec({ Condition: 'none' })], tasks: [task({ slot: 1, state: 'shutdown', desiredState: 'shutdown' })] }).plans[0]!.creates[0]!.desiredState, 'running');
});

test('max attempts: counted on the slot\'s tasks (restarts), not over the history kept; within the window', () => {
  const spec = (RestartPolicy: object) => service({ Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy } });
  const ago = (ms: number) => new Date(NOW - ms).toISOString();
  // history limit 2 keeps one dead task per slot: three restarts already happened, MaxAttempts 3 stops a fourth
  const third = task({ slot: 1, state: 'failed', restarts: [ago(40_000), ago(30_000), ago(20_000)] });
  const exhausted = run({ services: [spec({ MaxAttempts: 3, Delay: 0 })], historyLimit: 2, tasks: [task({ slot: 1, state: 'failed', desiredState: 'shutdown', at: NOW - 50_000 }), third] });
  assert.deepEqual(exhausted.plans.flatMap((p) => p.creates), []);
  const second = task({ slot: 1, state: 'failed', restarts: [ago(30_000), ago(20_000)] });
  const [p] = run({ services: [spec({ MaxAttempts: 3, Delay: 0 })], historyLimit: 2, tasks: [second] }).plans;
  assert.deepEqual(p!.creates[0]!.restarts, [ago(30_000), ago(20_000), ago(0)]);
  // outside a 25 s window only one earlier restart counts
  assert.equal(run({ services: [spec({ MaxAttempts: 3, Delay: 0, Window: 25e9 })], tasks: [third] }).plans[0]!.creates.length, 1);
});

test('stop-first: the new task waits (desired ready) until the old one has stopped; start-first does not wait', () => {
  const svc = updating({ Parallelism: 1 });
  const old = [1, 2, 3, 4].map((slot) => task({ slot, id: `o${slot}` }));
  const [p] = run({ services: [svc], tasks: old }).plans;
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState]), [['o1', 'shutdown']]);
  assert.deepEqual(p!.creates.map((t) => [t.slot, t.desiredState]), [[1, 'ready']]);
  const stopping = { ...old[0]!, record: { ...old[0]!.record, desiredState: 'shutdown' as const } };
  const waiting = fresh(1, undefined, { desiredState: 'ready', state: 'ready' });
  assert.deepEqual(run({ services: [svc], tasks: [stopping, waiting, ...old.slice(1)] }).plans, []);
  // the old one reported shutdown: the new one starts
  const stopped = { ...stopping, record: { ...stopping.record, status: { ...stopping.record.status, state: 'shutdown' as const } } };
  const [q] = run({ services: [svc], tasks: [stopped, waiting, ...old.slice(1)] }).plans;
  assert.deepEqual(q!.updates.map((u) => [u.record.id, u.record.desiredState]), [['n1', 'running']]);
  // an old task that never stops holds it up one minute at most (swarmkit's restart supervisor)
  const [r] = run({ services: [svc], tasks: [stopping, waiting, ...old.slice(1)], now: NOW + 60_000 }).plans;
  assert.deepEqual(r!.updates.map((u) => [u.record.id, u.record.desiredState]), [['n1', 'running']]);
  assert.deepEqual(run({ services: [updating({ Parallelism: 1, Order: 'start-first' })], tasks: old }).plans[0]!.creates.map((t) => t.desiredState), ['running']);
});

test('a task on a node that is down is shut down (orphaned) and replaced; on a drained node, shut down and replaced', () => {
  const svc = service({ Mode: { Replicated: { Replicas: 2 } } });
  const nodes = [node('n1', { ready: false }), node('n2', { availability: 'drain' }), node('n3')];
  const [p] = run({ services: [svc], nodes, tasks: [task({ slot: 1, id: 'a', nodeId: 'n1' }), task({ slot: 2, id: 'b', nodeId: 'n2' })] }).plans;
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState, u.record.status.state]), [['a', 'shutdown', 'orphaned'], ['b', 'shutdown', 'running']]);
  assert.deepEqual(p!.creates.map((t) => t.slot).sort(), [1, 2]);
});

test('a spec change replaces one task at a time by default and marks the update started', () => {
  const svc = service({ Mode: { Replicated: { Replicas: 3 } } }, { specVersion: 2 });
  const old = [1, 2, 3].map((slot) => task({ slot, id: `o${slot}` }));
  const [p] = run({ services: [svc], tasks: old }).plans;
  assert.deepEqual(p!.updates.map((u) => [u.record.id, u.record.desiredState]), [['o1', 'shutdown']]);
  assert.deepEqual(p!.creates.map((t) => [t.slot, t.specVersion]), [[1, 2]]);
  assert.deepEqual(p!.service?.updateStatus, { state: 'updating', startedAt: new Date(NOW).toISOString(), message: 'update in progress' });
  // the replacement is still starting: nothing more
  const started = { ...svc, record: { ...svc.record, updateStatus: p!.service!.updateStatus! } };
  const inFlight = [{ ...old[0]!, record: { ...old[0]!.record, desiredState: 'shutdown' as const } }, task({ slot: 1, specVersion: 2, state: 'starting', at: NOW }), old[1]!, old[2]!];
  assert.deepEqual(run({ services: [started], tasks: inFlight }).plans.flatMap((x) => x.creates), []);
});

const UPDATING = { state: 'updating' as const, startedAt: new Date(NOW - 20_000).toISOString(), message: 'update in progress' };
const S = 1e9;
/** A service of 4 replicas on spec 2 (previously 1) being updated with this UpdateConfig. */
function updating(UpdateConfig: Record<string, unknown>, o: Partial<ServiceRecord> = {}) {
  return service({ Mode: { Replicated: { Replicas: 4 } }, UpdateConfig }, { specVersion: 2, previousSpec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'old' } }, Mode: { Replicated: { Replicas: 4 } } }, previousSpecVersion: 1, updateStatus: UPDATING, ...o });
}
/** A new task (spec 2) in a slot, created during the update, running since `ranAgo` ms (undefined: not yet running). */
function fresh(slot: number, ranAgo?: number, o: Partial<TaskRecord> & { state?: TaskState } = {}): Versioned<TaskRecord> {
  return task({ slot, id: `n${slot}`, specVersion: 2, at: NOW - 15_000, state: ranAgo === undefined ? 'starting' : 'running', ...(ranAgo !== undefined ? { runningAt: new Date(NOW - ranAgo).toISOString() } : {}), ...o });
}

test('parallelism 2: two slots at a time; the next pair once both replacements run and the delay has passed', () => {
  const svc = updating({ Parallelism: 2, Delay: 3 * S });
  const old = [1, 2, 3, 4].map((slot) => task({ slot, id: `o${slot}` }));
  const first = run({ services: [{ ...svc, record: { ...svc.record, updateStatus: undefined } }], tasks: old }).plans[0]!;
  assert.deepEqual(first.updates.map((u) => u.record.id), ['o1', 'o2']);
  assert.deepEqual(first.creates.map((t) => t.slot), [1, 2]);
  // slot 1 runs, slot 2 still starting: one slot busy, one free
  const mid = run({ services: [svc], tasks: [fresh(1, 10_000), fresh(2), old[2]!, old[3]!] }).plans[0]!;
  assert.deepEqual(mid.updates.map((u) => u.record.id), ['o3']);
  // both run but slot 2 only for 1 s of the 3 s delay: still busy, and the orchestrator wakes when it ends
  const delayed = run({ services: [svc], tasks: [fresh(1, 10_000), fresh(2, 1000), old[2]!, old[3]!] });
  assert.deepEqual(delayed.plans[0]!.updates.map((u) => u.record.id), ['o3']);
  assert.equal(delayed.wakeAt, NOW + 2000);
});

test('parallelism 0 replaces every slot at once', () => {
  const old = [1, 2, 3, 4].map((slot) => task({ slot, id: `o${slot}` }));
  const [p] = run({ services: [updating({ Parallelism: 0 })], tasks: old }).plans;
  assert.deepEqual(p!.updates.map((u) => u.record.id), ['o1', 'o2', 'o3', 'o4']);
  assert.equal(p!.creates.length, 4);
});

test('completed once nothing is outdated and the newest task has run for Monitor', () => {
  const svc = updating({ Parallelism: 1, Monitor: 5 * S });
  const early = run({ services: [svc], tasks: [1, 2, 3, 4].map((i) => fresh(i, i === 4 ? 2000 : 10_000)) });
  assert.deepEqual(early.plans, []);
  assert.equal(early.wakeAt, NOW + 3000);
  const [p] = run({ services: [svc], tasks: [1, 2, 3, 4].map((i) => fresh(i, 10_000)) }).plans;
  assert.deepEqual(p!.service?.updateStatus, { ...UPDATING, state: 'completed', message: 'update completed', completedAt: new Date(NOW).toISOString() });
});

test('a new task that fails within Monitor pauses the update (default action) with swarmkit\'s message', () => {
  const svc = updating({ Parallelism: 1, Monitor: 5 * S });
  const failedAt = new Date(NOW - 1000).toISOString();
  const failed = fresh(1, 3000, { state: 'failed', status: { state: 'failed', message: 'started', err: 'task: non-zero exit (1)', timestamp: failedAt } });
  const old = [2, 3, 4].map((slot) => task({ slot, id: `o${slot}` }));
  const [p] = run({ services: [svc], tasks: [failed, ...old] }).plans;
  assert.equal(p!.service?.updateStatus?.state, 'paused');
  assert.equal(p!.service?.updateStatus?.message, 'update paused due to failure or early termination of task n1');
  assert.ok(!p!.updates.some((u) => u.record.id.startsWith('o')), 'no old task is replaced');
  // paused: nothing more is replaced
  const paused = { ...svc, record: { ...svc.record, updateStatus: p!.service!.updateStatus! } };
  assert.ok(!run({ services: [paused], tasks: [fresh(1, 10_000), ...old] }).plans.some((x) => x.updates.length || x.creates.length));
  // a failure after Monitor does not count
  const late = fresh(1, 30_000, { state: 'failed', status: { state: 'failed', message: 'started', timestamp: failedAt } });
  assert.notEqual(run({ services: [svc], tasks: [late, ...old] }).plans[0]?.service?.updateStatus?.state, 'paused');
  // under MaxFailureRatio (1 of 4 slots = 0.25 <= 0.5): the update goes on
  const tolerant = updating({ Parallelism: 1, Monitor: 5 * S, MaxFailureRatio: 0.5 });
  assert.deepEqual(run({ services: [tolerant], tasks: [failed, ...old] }).plans[0]!.updates.map((u) => [u.record.id, u.record.desiredState]).filter(([id]) => id === 'o2'), [['o2', 'shutdown']]);
  // continue: failures are ignored
  assert.ok(run({ services: [updating({ Parallelism: 1, FailureAction: 'continue' })], tasks: [failed, ...old] }).plans[0]!.updates.some((u) => u.record.id === 'o2'));
});

test('failure action rollback: the spec goes back to PreviousSpec and its version, rollback_started; a failing rollback pauses', () => {
  const svc = updating({ Parallelism: 1, FailureAction: 'rollback' });
  const failed = fresh(1, undefined, { state: 'failed' });
  const old = [2, 3, 4].map((slot) => task({ slot, id: `o${slot}` }));
  const [p] = run({ services: [svc], tasks: [failed, ...old] }).plans;
  assert.deepEqual([p!.service?.spec.TaskTemplate?.ContainerSpec?.Image, p!.service?.specVersion, p!.service?.previousSpecVersion], ['old', 1, 2]);
  assert.deepEqual([p!.service?.updateStatus?.state, p!.service?.updateStatus?.message], ['rollback_started', 'update rolled back due to failure or early termination of task n1']);
  assert.deepEqual([p!.creates, p!.updates], [[], []]);
  // rolling back: the old tasks (spec 1) stay; the failed slot gets a spec-1 task; then rollback_completed
  const back = { ...svc, record: p!.service! };
  const [q] = run({ services: [back], tasks: [{ ...failed, record: { ...failed.record, desiredState: 'running' } }, ...old] }).plans;
  assert.deepEqual(q!.creates.map((t) => [t.slot, t.specVersion]), [[1, 1]]);
  assert.ok(!q!.updates.some((u) => u.record.id.startsWith('o')));
  const rolledBack = [task({ slot: 1, id: 'r1', at: NOW - 15_000, runningAt: new Date(NOW - 10_000).toISOString() }), ...old];
  assert.deepEqual(run({ services: [back], tasks: rolledBack }).plans[0]!.service?.updateStatus?.state, 'rollback_completed');
  // a rollback whose new task fails is paused, never rolled back again
  const failing = run({ services: [back], tasks: [task({ slot: 1, id: 'r1', at: NOW - 15_000, state: 'failed' }), ...old] }).plans[0]!;
  assert.deepEqual([failing.service?.updateStatus?.state, failing.service?.updateStatus?.message], ['rollback_paused', 'rollback paused due to failure or early termination of task r1']);
});

test('start-first: the new task starts beside the old one, which is shut down once the new one runs', () => {
  const svc = updating({ Parallelism: 1, Order: 'start-first' });
  const old = [1, 2, 3, 4].map((slot) => task({ slot, id: `o${slot}` }));
  const [p] = run({ services: [svc], tasks: old }).plans;
  assert.deepEqual(p!.updates, []);
  assert.deepEqual(p!.creates.map((t) => t.slot), [1]);
  // the new one is starting: both stay
  assert.deepEqual(run({ services: [svc], tasks: [...old, fresh(1)] }).plans, []);
  // the new one runs: the old one goes
  const [q] = run({ services: [svc], tasks: [...old, fresh(1, 10_000)] }).plans;
  assert.deepEqual(q!.updates.map((u) => [u.record.id, u.record.desiredState]), [['o1', 'shutdown']]);
  assert.deepEqual(q!.creates.map((t) => t.slot), [2]);
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
