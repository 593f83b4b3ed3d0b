import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule } from './scheduler.js';
import { constraintsMatch, parseConstraints, type NodeInfo } from './placement.js';
import type { TaskRecord } from './service-records.js';
import type { Versioned } from './orchestrator.js';
import type { TaskSpecView, TaskState } from '../../api/types/index.js';

const NOW = Date.parse('2026-01-01T00:01:00Z');

function node(id: string, o: Partial<NodeInfo> = {}): NodeInfo {
  return { id, hostname: `host-${id}`, role: 'worker', availability: 'active', ready: true, labels: {}, engineLabels: {}, nanoCpus: 2e9, memoryBytes: 4e9, os: 'linux', arch: 'x86_64', ...o };
}

let seq = 0;
function task(o: Partial<TaskRecord> & { state?: TaskState } = {}): Versioned<TaskRecord> {
  const t: TaskRecord = {
    id: `t${++seq}`, serviceId: 'svc', serviceName: 'web', desiredState: 'running', specVersion: 1, spec: {}, createdAt: new Date(NOW - 1000 + seq).toISOString(),
    updatedAt: '', status: { state: o.state ?? 'pending', message: '', timestamp: '' }, ...o,
  };
  return { record: t, modRevision: seq };
}

const placed = (out: Versioned<TaskRecord>[]) => out.map((t) => t.record.nodeId);

test('pending tasks spread over the nodes with the fewest tasks of the service, then the fewest overall', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const busy = [task({ nodeId: 'a', state: 'running', serviceId: 'other' }), task({ nodeId: 'a', state: 'running', serviceId: 'other' })];
  const out = schedule({ tasks: [...busy, task(), task(), task(), task()], nodes, now: NOW });
  assert.deepEqual(placed(out), ['b', 'c', 'a', 'b']);
  assert.ok(out.every((t) => t.record.status.state === 'assigned' && t.record.status.message === 'scheduler assigned task to node'));
});

test('only ready, active nodes; a global task goes to its own node when it is ready', () => {
  const nodes = [node('a', { ready: false }), node('b', { availability: 'pause' }), node('c', { availability: 'drain' }), node('d')];
  assert.deepEqual(placed(schedule({ tasks: [task()], nodes, now: NOW })), ['d']);
  assert.deepEqual(placed(schedule({ tasks: [task({ nodeId: 'a' }), task({ nodeId: 'd' })], nodes, now: NOW })), ['d']);
});

test('constraints: role, hostname, id, node and engine labels, == and !=', () => {
  const n = node('abc', { role: 'manager', labels: { zone: 'East' }, engineLabels: { disk: 'ssd' } });
  const m = (...c: string[]) => constraintsMatch(parseConstraints(c), n);
  assert.equal(m('node.role==manager'), true);
  assert.equal(m('node.role!=manager'), false);
  assert.equal(m('node.hostname==host-abc', 'node.id==abc'), true);
  assert.equal(m('node.labels.zone==east'), true);
  assert.equal(m('node.labels.zone!=west'), true);
  assert.equal(m('node.labels.rack==1'), false);
  assert.equal(m('node.labels.rack!=1'), true);
  assert.equal(m('engine.labels.disk==ssd'), true);
  assert.throws(() => parseConstraints(['node.role=manager']), /invalid constraint: node\.role=manager/);
});

test('nothing fits: the task stays pending with swarmkit\'s explanation, written once', () => {
  const spec: TaskSpecView = { Placement: { Constraints: ['node.labels.zone==mars'] } };
  const nodes = [node('a'), node('b'), node('c')];
  const [out] = schedule({ tasks: [task({ spec })], nodes, now: NOW });
  assert.equal(out!.record.status.state, 'pending');
  assert.equal(out!.record.status.err, 'no suitable node (scheduling constraints not satisfied on 3 nodes)');
  assert.equal(out!.record.nodeId, undefined);
  assert.deepEqual(schedule({ tasks: [{ ...out! }], nodes, now: NOW }), [], 'the same reason is not written again');
  const mixed = schedule({ tasks: [task({ spec })], nodes: [node('a', { ready: false }), node('b')], now: NOW });
  assert.equal(mixed[0]!.record.status.err, 'no suitable node (1 node not available for new tasks; scheduling constraints not satisfied on 1 node)');
});

test('reservations count against what the node has left after its live tasks', () => {
  const spec: TaskSpecView = { Resources: { Reservations: { MemoryBytes: 3e9 } } };
  const nodes = [node('a'), node('b')];
  const out = schedule({ tasks: [task({ spec }), task({ spec }), task({ spec })], nodes, now: NOW });
  assert.deepEqual(placed(out.filter((t) => t.record.status.state === 'assigned')), ['a', 'b']);
  assert.equal(out[2]!.record.status.err, 'no suitable node (insufficient resources on 2 nodes)');
});

test('placement preference spread=node.labels.zone: tasks go evenly over the zones, nodes without the label as one group', () => {
  const spec: TaskSpecView = { Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] } };
  // zone a has three nodes, zone b one, and one node has no zone: per node spreading would put 3 of 5 in zone a
  const nodes = [node('a1', { labels: { zone: 'a' } }), node('a2', { labels: { zone: 'a' } }), node('a3', { labels: { zone: 'a' } }), node('b1', { labels: { zone: 'b' } }), node('x')];
  const out = schedule({ tasks: [1, 2, 3, 4, 5, 6].map(() => task({ spec })), nodes, now: NOW });
  const zoneOf = (id: string | undefined) => nodes.find((n) => n.id === id)!.labels.zone ?? '-';
  const perZone = new Map<string, number>();
  for (const id of placed(out)) perZone.set(zoneOf(id), (perZone.get(zoneOf(id)) ?? 0) + 1);
  assert.deepEqual([...perZone.entries()].sort(), [['-', 2], ['a', 2], ['b', 2]]);
  // inside zone a, per node as before
  assert.equal(new Set(placed(out).filter((id) => zoneOf(id) === 'a')).size, 2);
  // tasks already running count toward their zone
  const running = [task({ nodeId: 'b1', state: 'running' }), task({ nodeId: 'x', state: 'running' })];
  assert.equal(zoneOf(placed(schedule({ tasks: [...running, task({ spec })], nodes, now: NOW }))[0]), 'a');
});

test('--replicas-max-per-node: no node gets more; the rest stay pending with swarmkit\'s reason', () => {
  const spec: TaskSpecView = { Placement: { MaxReplicas: 1 } };
  const out = schedule({ tasks: [task({ spec }), task({ spec }), task({ spec })], nodes: [node('a'), node('b')], now: NOW });
  assert.deepEqual(placed(out.filter((t) => t.record.status.state === 'assigned')).sort(), ['a', 'b']);
  assert.equal(out[2]!.record.status.err, 'no suitable node (max replicas per node limit exceed)');
  // other services' tasks do not count
  const busy = [task({ nodeId: 'a', state: 'running', serviceId: 'other' })];
  assert.deepEqual(placed(schedule({ tasks: [...busy, task({ spec })], nodes: [node('a')], now: NOW })), ['a']);
});

test('host-mode ports: a node whose live task holds the published port is skipped; none left → pending with swarmkit\'s reason', () => {
  const nodes = [node('a'), node('b')];
  const hostPorts = [{ Protocol: 'tcp' as const, TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' as const }];
  const holding = task({ nodeId: 'a', state: 'running', hostPorts });
  const out = schedule({ tasks: [holding, task({ hostPorts }), task({ hostPorts })], nodes, now: NOW });
  assert.deepEqual(placed(out), ['b', undefined]);
  assert.equal(out[1]!.record.status.state, 'pending');
  assert.equal(out[1]!.record.status.err, 'no suitable node (host-mode port already in use on 2 nodes)');
  const udp = [{ ...hostPorts[0]!, Protocol: 'udp' as const }];
  assert.deepEqual(placed(schedule({ tasks: [holding, task({ hostPorts: udp })], nodes: [node('a')], now: NOW })), ['a'], 'another protocol does not conflict');
  const ended = task({ nodeId: 'a', state: 'failed', hostPorts });
  assert.deepEqual(placed(schedule({ tasks: [ended, task({ hostPorts })], nodes: [node('a')], now: NOW })), ['a'], 'an ended task holds nothing');
});
