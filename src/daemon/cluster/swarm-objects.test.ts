import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Filters } from '../../api/filters.js';
import { resolveAdvertiseIp, hostOf, type Interfaces } from './advertise-addr.js';
import { LEADER_KEY } from './leader-election.js';
import { MemoryStore } from './memory-store.js';
import {
  applyNodeSpec, checkSupportedSpec, CLUSTER_KEY, defaultSwarmSpec, heartbeatKey, mergeSwarmSpec, nodeKey, nodeMatches, nodeView, resolveNodeRef,
  type NodeRecord,
} from './swarm-objects.js';
import { SwarmNodes } from './swarm-nodes.js';
import { NodeHeartbeat } from './node-heartbeat.js';

const node = (over: Partial<NodeRecord> = {}): NodeRecord => ({
  id: 'abcdefghijklmnopqrstuvwxy', createdAt: 't0', updatedAt: 't0',
  spec: { Labels: {}, Role: 'manager', Availability: 'active' },
  description: {
    Hostname: 'host1', Platform: { Architecture: 'x86_64', OS: 'linux' }, Resources: { NanoCPUs: 2e9, MemoryBytes: 1 },
    Engine: { EngineVersion: 'x', Labels: { disk: 'ssd' }, Plugins: [] }, TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
  },
  addr: '10.0.0.1',
  ...over,
});

describe('swarm spec', () => {
  test('init with no spec gets swarmkit defaults', () => {
    const s = mergeSwarmSpec(defaultSwarmSpec(), undefined);
    assert.equal(s.Name, 'default');
    assert.equal(s.Orchestration?.TaskHistoryRetentionLimit, 5);
    assert.equal(s.Dispatcher?.HeartbeatPeriod, 5e9);
    assert.equal(s.CAConfig?.NodeCertExpiry, 90 * 24 * 3600 * 1e9);
  });

  test('given fields win, zero fields keep the base', () => {
    const s = mergeSwarmSpec(defaultSwarmSpec(), { Orchestration: { TaskHistoryRetentionLimit: 7 }, Dispatcher: { HeartbeatPeriod: 0 } });
    assert.equal(s.Orchestration?.TaskHistoryRetentionLimit, 7);
    assert.equal(s.Dispatcher?.HeartbeatPeriod, 5e9);
    assert.equal(s.Raft?.ElectionTick, 10);
  });

  test('autolock and external CAs are refused with a sentence, not ignored', () => {
    assert.throws(() => checkSupportedSpec({ EncryptionConfig: { AutoLockManagers: true } }), /autolock is not supported/);
    assert.throws(() => checkSupportedSpec({ CAConfig: { ExternalCAs: [{}] } }), /external CAs/);
    checkSupportedSpec({ EncryptionConfig: { AutoLockManagers: false } });
  });
});

describe('node views', () => {
  test('a node with a live heartbeat is ready; the leader is marked; a dead one is down and unreachable', () => {
    const v = nodeView(node(), 12, true, 'abcdefghijklmnopqrstuvwxy', '');
    assert.deepEqual(v.Status, { State: 'ready', Addr: '10.0.0.1' });
    assert.deepEqual(v.ManagerStatus, { Leader: true, Reachability: 'reachable', Addr: '10.0.0.1:2377' });
    assert.deepEqual(v.Version, { Index: 12 });
    const down = nodeView(node(), 12, false, 'someoneelse', '');
    assert.equal(down.Status.State, 'down');
    assert.deepEqual(down.ManagerStatus, { Reachability: 'unreachable', Addr: '10.0.0.1:2377' });
    assert.equal(nodeView(node({ spec: { Labels: {}, Role: 'worker', Availability: 'active' } }), 1, true, '', '').ManagerStatus, undefined);
  });

  test('filters: role, id and name prefixes, node labels, engine labels; bad values in dockerd\'s words', () => {
    const v = nodeView(node({ spec: { Labels: { zone: 'a' }, Role: 'manager', Availability: 'active' } }), 1, true, '', '');
    const f = (o: Record<string, string[]>) => nodeMatches(new Filters(o), v);
    assert.equal(f({ role: ['manager'] }), true);
    assert.equal(f({ role: ['worker'] }), false);
    assert.equal(f({ id: ['abc'] }), true);
    assert.equal(f({ name: ['host'] }), true);
    assert.equal(f({ name: ['other'] }), false);
    assert.equal(f({ 'node.label': ['zone=a'] }), true);
    assert.equal(f({ 'node.label': ['zone=b'] }), false);
    assert.equal(f({ label: ['disk=ssd'] }), true);
    assert.equal(f({ membership: ['accepted'] }), true);
    assert.throws(() => f({ role: ['boss'] }), /Invalid role filter: 'boss'/);
    assert.throws(() => f({ membership: ['maybe'] }), /Invalid membership filter: 'maybe'/);
  });

  test('a reference is an id, then a name, then a unique id prefix', () => {
    const nodes = [{ id: 'aaa111', name: 'h1' }, { id: 'aaa222', name: 'h2' }, { id: 'bbb333', name: 'aaa111x' }];
    assert.equal(resolveNodeRef('aaa222', nodes), nodes[1]);
    assert.equal(resolveNodeRef('h1', nodes), nodes[0]);
    assert.equal(resolveNodeRef('bbb', nodes), nodes[2]);
    assert.equal(resolveNodeRef('aaa', nodes), 'ambiguous');
    assert.equal(resolveNodeRef('zzz', nodes), undefined);
  });

  test('a node update replaces the spec and checks role and availability', () => {
    const n = applyNodeSpec(node(), { Labels: { zone: 'a' }, Role: 'manager', Availability: 'drain' }, 't1');
    assert.deepEqual(n.spec, { Labels: { zone: 'a' }, Role: 'manager', Availability: 'drain' });
    assert.equal(n.updatedAt, 't1');
    assert.throws(() => applyNodeSpec(node(), { Availability: 'sleep' as 'active' }, 't1'), /invalid availability/);
  });
});

describe('swarm records in the store (memory store)', () => {
  test('the cluster is created once: a second create on the same store loses the transaction', async () => {
    const store = new MemoryStore();
    const create = () => store.txn({ compare: [{ key: CLUSTER_KEY, modRevision: 0 }], success: [{ put: CLUSTER_KEY, value: '{}' }] });
    assert.equal((await create()).succeeded, true);
    assert.equal((await create()).succeeded, false);
    await store.close();
  });

  test('a heartbeat bound to a lease goes when the lease is revoked: the node reads as down', async () => {
    const store = new MemoryStore();
    const lease = await store.grantLease(10, { keepAlive: false });
    await store.put(heartbeatKey('n1'), 'now', { lease: lease.id });
    assert.ok(await store.get(heartbeatKey('n1')));
    await store.revokeLease(lease.id);
    assert.equal(await store.get(heartbeatKey('n1')), undefined);
    await store.close();
  });
});

describe('advertise address', () => {
  const ifaces: Interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '', mac: '', cidr: null }],
    eth0: [{ address: '10.1.2.3', family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null }],
    berth0: [{ address: '10.200.0.1', family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null }],
  };
  test('an IP, an IP with a port, or an interface name', () => {
    assert.equal(resolveAdvertiseIp({ advertiseAddr: '10.9.9.9' }, ifaces), '10.9.9.9');
    assert.equal(resolveAdvertiseIp({ advertiseAddr: '10.9.9.9:2377' }, ifaces), '10.9.9.9');
    assert.equal(resolveAdvertiseIp({ advertiseAddr: 'eth0' }, ifaces), '10.1.2.3');
    assert.equal(hostOf('[fd00::1]:2377'), 'fd00::1');
    assert.throws(() => resolveAdvertiseIp({ advertiseAddr: '0.0.0.0' }, ifaces), /non-zero IP address/);
  });
  test('none given: the one address left, or moby\'s message when there are several', () => {
    assert.equal(resolveAdvertiseIp({ skipInterfaces: ['berth0'] }, ifaces), '10.1.2.3');
    assert.throws(() => resolveAdvertiseIp({}, ifaces), /could not choose an IP address to advertise since this system has multiple addresses on different interfaces \(10\.1\.2\.3 on eth0 and 10\.200\.0\.1 on berth0\)/);
    assert.equal(resolveAdvertiseIp({ listenAddr: '10.1.2.3:2377' }, ifaces), '10.1.2.3');
  });
  test('a skipped prefix: an overlay bridge a leave has not taken down yet is never the advertise address', () => {
    const withOverlay = { ...ifaces, 'ov-abc': [{ address: '10.0.0.1', family: 'IPv4', internal: false }] } as unknown as typeof ifaces;
    assert.equal(resolveAdvertiseIp({ skipInterfaces: ['berth0', 'ov-*'] }, withOverlay), '10.1.2.3');
    assert.throws(() => resolveAdvertiseIp({ skipInterfaces: ['berth0'] }, withOverlay), /multiple addresses/);
  });
});

describe('node objects on a manager (SwarmNodes over the memory store)', () => {
  const seed = async () => {
    const store = new MemoryStore();
    const cluster = { id: 'c', createdAt: 't', updatedAt: 't', spec: defaultSwarmSpec(), joinTokens: { worker: 'w', manager: 'm' }, rootCaCertPem: '', defaultAddrPool: [], subnetSize: 24, dataPathPort: 4789 };
    await store.put(CLUSTER_KEY, JSON.stringify(cluster));
    // the leader is whoever holds the election key (leader-election.ts)
    await store.put(LEADER_KEY, 'abcdefghijklmnopqrstuvwxy');
    await store.put(nodeKey('abcdefghijklmnopqrstuvwxy'), JSON.stringify(node()));
    const worker = node({ id: 'zzzzzzzzzzzzzzzzzzzzzzzzz', addr: '10.0.0.2', spec: { Labels: {}, Role: 'worker', Availability: 'active' } });
    worker.description = { ...worker.description, Hostname: 'host2' };
    await store.put(nodeKey(worker.id), JSON.stringify(worker));
    const lease = await store.grantLease(10, { keepAlive: false });
    await store.put(heartbeatKey('abcdefghijklmnopqrstuvwxy'), 'now', { lease: lease.id });
    return { store, nodes: new SwarmNodes(() => store) };
  };

  test('ls: the manager with a heartbeat is ready, the worker without one is down; filters apply', async () => {
    const { store, nodes } = await seed();
    const all = await nodes.listNodes(new Filters());
    assert.deepEqual(all.map((n) => [n.Description.Hostname, n.Status.State, n.ManagerStatus?.Leader ?? false]), [['host1', 'ready', true], ['host2', 'down', false]]);
    assert.deepEqual((await nodes.listNodes(new Filters({ role: ['worker'] }))).map((n) => n.ID), ['zzzzzzzzzzzzzzzzzzzzzzzzz']);
    await assert.rejects(nodes.listNodes(new Filters({ color: ['red'] })), /invalid filter 'color'/);
    await store.close();
  });

  test('update carries the version it read: a stale one is refused, the current one lands', async () => {
    const { store, nodes } = await seed();
    const v = await nodes.inspectNode('host1');
    await nodes.updateNode(v.ID, v.Version.Index, { ...v.Spec, Labels: { zone: 'a' } });
    await assert.rejects(nodes.updateNode(v.ID, v.Version.Index, { ...v.Spec, Labels: { zone: 'b' } }), /update out of sequence/);
    assert.deepEqual((await nodes.inspectNode(v.ID)).Spec.Labels, { zone: 'a' });
    const again = await nodes.inspectNode(v.ID);
    await assert.rejects(nodes.updateNode(v.ID, again.Version.Index, { ...again.Spec, Role: 'worker' }), /attempting to demote the last manager/);
    await store.close();
  });

  test('rm: a manager never, a ready node only with force, a down worker at once; unknown refs are not found', async () => {
    const { store, nodes } = await seed();
    await assert.rejects(nodes.removeNode('host1', true), /is a cluster manager/);
    await assert.rejects(nodes.inspectNode('nosuch'), /node nosuch not found/);
    await nodes.removeNode('zzz', false);
    assert.deepEqual((await nodes.listNodes(new Filters())).map((n) => n.Description.Hostname), ['host1']);
    await store.close();
  });
});

describe('node heartbeat (memory store)', () => {
  test('the key lives while beating; a lease revoked elsewhere is granted again and the key rebound; stop lets it expire', async () => {
    const store = new MemoryStore();
    const hb = new NodeHeartbeat(store, 'n1', { ttlSeconds: 1, retryMs: 50 });
    await hb.startNow();
    const first = await store.get(heartbeatKey('n1'));
    assert.ok(first?.lease);
    await store.revokeLease(first.lease);
    const deadline = Date.now() + 3000;
    let again = await store.get(heartbeatKey('n1'));
    while ((!again || again.lease === first.lease) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      again = await store.get(heartbeatKey('n1'));
    }
    assert.ok(again && again.lease !== first.lease, 'rebound to a new lease');
    hb.stop();
    const gone = Date.now() + 4000;
    while ((await store.get(heartbeatKey('n1'))) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await store.get(heartbeatKey('n1')), undefined, 'expired after stop');
    await store.close();
  });
});
