/**
 * Swarm mode, first slice, with the real docker CLI against berthd on a
 * harness node: `swarm init` starts an etcd member and writes the swarm into
 * it; `docker info`, `swarm join-token`, `node ls/inspect/update` read and
 * write it; a berthd kill -9 leaves etcd running and the restarted daemon
 * adopts it; `swarm leave` refuses a last manager without --force and with
 * it leaves no etcd process and no swarm directory. Every etcd started here
 * is killed by pid in `after` if a test failed before leave did it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { isEtcdFor } from '../../src/daemon/cluster/etcd-member.js';
import { waitFor } from '../support/wait.js';

const TOKEN = /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/;

describe('swarm init, nodes and leave with the docker CLI', () => {
  let c: TestCluster;
  let n1: TestNode;
  let nodeId = '';
  const swarmDir = () => join(n1.daemon.dataRoot, 'swarm');
  const etcdDataDir = () => join(swarmDir(), 'etcd', 'data');
  const docker = async (args: string[]) => {
    const r = await n1.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    c = await TestCluster.start(1);
    n1 = c.nodes[0]!;
  });
  after(() => c?.destroy());

  test('a daemon never in a swarm reports inactive and refuses manager commands with Docker\'s words', async () => {
    assert.equal((await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim(), 'inactive');
    const ls = await n1.docker(['node', 'ls']);
    assert.notEqual(ls.code, 0);
    assert.match(ls.stderr, /This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again\./);
    const leave = await n1.docker(['swarm', 'leave']);
    assert.match(leave.stderr, /This node is not part of a swarm/);
    assert.equal(existsSync(swarmDir()), false, 'no swarm dir, no etcd');
  });

  test('swarm init makes this node a manager and prints the join command', async () => {
    const out = await docker(['swarm', 'init', '--advertise-addr', n1.ip]);
    const m = /current node \(([0-9a-z]{25})\) is now a manager/.exec(out);
    assert.ok(m, out);
    nodeId = m[1]!;
    assert.match(out, new RegExp(`docker swarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} ${n1.ip.replace(/\./g, '\\.')}:2377`));
    assert.ok(n1.etcdPid(), 'an etcd member runs for this data root');
    for (const f of ['swarm-root-ca.crt', 'swarm-root-ca.key', 'swarm-node.crt', 'swarm-node.key']) {
      assert.ok(existsSync(join(swarmDir(), 'certificates', f)), f);
    }
  });

  test('a second init on an active swarm is refused', async () => {
    const r = await n1.docker(['swarm', 'init', '--advertise-addr', n1.ip]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /This node is already part of a swarm\. Use "docker swarm leave" to leave this swarm and join another one\./);
  });

  test('docker info shows the swarm block', async () => {
    const info = JSON.parse(await docker(['info', '--format', '{{json .Swarm}}'])) as Record<string, unknown> & { Cluster: { ID: string } };
    assert.equal(info.LocalNodeState, 'active');
    assert.equal(info.NodeID, nodeId);
    assert.equal(info.NodeAddr, n1.ip);
    assert.equal(info.ControlAvailable, true);
    assert.equal(info.Nodes, 1);
    assert.equal(info.Managers, 1);
    assert.match(info.Cluster.ID, /^[0-9a-z]{25}$/);
    assert.deepEqual(info.RemoteManagers, [{ NodeID: nodeId, Addr: `${n1.ip}:2377` }]);
    const text = await docker(['info']);
    assert.match(text, /Swarm: active/);
    assert.match(text, /Is Manager: true/);
  });

  test('join tokens have Docker\'s shape and --rotate changes only the one rotated', async () => {
    const worker = (await docker(['swarm', 'join-token', '-q', 'worker'])).trim();
    const manager = (await docker(['swarm', 'join-token', '-q', 'manager'])).trim();
    assert.match(worker, TOKEN);
    assert.match(manager, TOKEN);
    assert.notEqual(worker, manager);
    const rotated = await docker(['swarm', 'join-token', '--rotate', 'worker']);
    assert.match(rotated, /Successfully rotated worker join token\./);
    const worker2 = (await docker(['swarm', 'join-token', '-q', 'worker'])).trim();
    assert.match(worker2, TOKEN);
    assert.notEqual(worker2, worker);
    assert.equal(worker2.split('-')[2], worker.split('-')[2], 'same CA digest');
    assert.equal((await docker(['swarm', 'join-token', '-q', 'manager'])).trim(), manager);
  });

  test('swarm update changes spec fields; unlock-key says autolock is off', async () => {
    await docker(['swarm', 'update', '--task-history-limit', '7', '--dispatcher-heartbeat', '10s']);
    const spec = JSON.parse(await docker(['info', '--format', '{{json .Swarm.Cluster.Spec}}'])) as { Orchestration: { TaskHistoryRetentionLimit: number }; Dispatcher: { HeartbeatPeriod: number } };
    assert.equal(spec.Orchestration.TaskHistoryRetentionLimit, 7);
    assert.equal(spec.Dispatcher.HeartbeatPeriod, 10_000_000_000);
    const key = await n1.docker(['swarm', 'unlock-key']);
    assert.match(key.stdout + key.stderr, /no unlock key is set/);
  });

  test('node ls shows this node Ready, Active, Leader', async () => {
    const out = await docker(['node', 'ls', '--format', '{{.ID}} {{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}} {{.Self}}']);
    const [id, , status, availability, manager, self] = out.trim().split(' ');
    assert.deepEqual([id, status, availability, manager, self], [nodeId, 'Ready', 'Active', 'Leader', 'true']);
    assert.equal((await docker(['node', 'ls', '-q', '--filter', 'role=manager'])).trim(), nodeId);
    assert.equal((await docker(['node', 'ls', '-q', '--filter', 'role=worker'])).trim(), '');
  });

  test('node inspect and node update --label-add', async () => {
    const [node] = JSON.parse(await docker(['node', 'inspect', 'self'])) as [{ ID: string; Spec: { Role: string; Availability: string; Labels: Record<string, string> }; Status: { State: string; Addr: string }; ManagerStatus: { Leader: boolean; Reachability: string; Addr: string }; Description: { Hostname: string; Engine: { EngineVersion: string } } }];
    assert.equal(node.ID, nodeId);
    assert.deepEqual(node.Spec, { Labels: {}, Role: 'manager', Availability: 'active' });
    assert.deepEqual(node.Status, { State: 'ready', Addr: n1.ip });
    assert.deepEqual(node.ManagerStatus, { Leader: true, Reachability: 'reachable', Addr: `${n1.ip}:2377` });
    assert.match(node.Description.Engine.EngineVersion, /berth/);
    await docker(['node', 'update', '--label-add', 'zone=a', '--availability', 'drain', nodeId]);
    assert.equal((await docker(['node', 'inspect', '--format', '{{json .Spec}}', nodeId.slice(0, 6)])).trim(), '{"Labels":{"zone":"a"},"Role":"manager","Availability":"drain"}');
    assert.equal((await docker(['node', 'ls', '-q', '--filter', 'node.label=zone=a'])).trim(), nodeId);
    await docker(['node', 'update', '--availability', 'active', nodeId]);
    const missing = await n1.docker(['node', 'inspect', 'nosuchnode']);
    assert.match(missing.stderr, /node nosuchnode not found/);
  });

  test('berthd killed with -9 leaves etcd running; the restarted daemon adopts it and keeps the swarm', async () => {
    const pid = n1.etcdPid();
    assert.ok(pid);
    n1.kill9();
    await n1.restart();
    assert.equal(n1.etcdPid(), pid, 'the same etcd process, adopted');
    assert.equal((await docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}'])).trim(), `active ${nodeId}`);
    await waitFor(async () => (await docker(['node', 'ls', '--format', '{{.Status}}'])).trim() === 'Ready', 15_000, "node ready after restart");
    assert.equal((await docker(['node', 'inspect', '--format', '{{index .Spec.Labels "zone"}}', 'self'])).trim(), 'a');
  });

  test('leave refuses a last manager without --force; with it nothing stays behind', async () => {
    const r = await n1.docker(['swarm', 'leave']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /You are attempting to leave the swarm on a node that is participating as a manager\. Removing the last manager erases all current state of the swarm\. Use `--force` to ignore this message\./);
    const pid = n1.etcdPid();
    assert.ok(pid);
    assert.match(await docker(['swarm', 'leave', '--force']), /Node left the swarm\./);
    assert.equal(existsSync(`/proc/${pid}`) && isEtcdFor(pid, etcdDataDir()), false, 'etcd is gone');
    assert.equal(existsSync(swarmDir()), false, 'the swarm dir is gone');
    assert.equal((await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim(), 'inactive');
  });

  test('init without --advertise-addr picks the LAN address (not the daemon\'s own bridge)', async () => {
    await docker(['swarm', 'init']);
    assert.equal((await docker(['info', '--format', '{{.Swarm.NodeAddr}}'])).trim(), n1.ip);
    await docker(['swarm', 'leave', '--force']);
    assert.equal(n1.etcdPid(), undefined);
    assert.equal(existsSync(swarmDir()), false);
  });
});

describe('a worker joins with the docker CLI', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  const pids = (n: TestNode): number[] => {
    const dataDir = join(n.daemon.dataRoot, 'swarm', 'etcd', 'data');
    try {
      const pid = Number(readFileSync(join(n.daemon.dataRoot, 'swarm', 'etcd', 'etcd.pid'), 'utf8').trim());
      return isEtcdFor(pid, dataDir) ? [pid] : [];
    } catch {
      return [];
    }
  };

  before(async () => {
    c = await TestCluster.start(2);
    [n1, n2] = c.nodes as [TestNode, TestNode];
  });
  after(async () => {
    for (const n of c?.nodes ?? []) for (const pid of pids(n)) process.kill(pid, 'SIGKILL');
    await c?.destroy();
  });

  test('join with the worker token; node ls on the manager shows both nodes Ready', async () => {
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    const bad = await n2.docker(['swarm', 'join', '--token', `${token.slice(0, -25)}${'0'.repeat(25)}`, `${n1.ip}:2377`]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /A valid join token is necessary to join this cluster/, n2.daemon.logs.slice(-3000));
    assert.match(bad.stderr, /A valid join token is necessary to join this cluster/);
    const joined = await n2.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    assert.match(joined, /This node joined a swarm as a worker\./);
    assert.deepEqual(pids(n2), [], 'a worker runs no etcd');
    const info = JSON.parse(await n2.dockerOk(['info', '--format', '{{json .Swarm}}'])) as { LocalNodeState: string; ControlAvailable: boolean; NodeAddr: string; RemoteManagers: { Addr: string }[] };
    assert.equal(info.LocalNodeState, 'active');
    assert.equal(info.ControlAvailable, false);
    assert.equal(info.NodeAddr, n2.ip);
    assert.deepEqual(info.RemoteManagers.map((m) => m.Addr), [`${n1.ip}:2377`]);
    const rows = (await n1.dockerOk(['node', 'ls', '--format', '{{.Status}} {{.Availability}} {{.ManagerStatus}}|{{.Hostname}}'])).trim().split('\n').map((l) => l.split('|')[0]).sort();
    assert.deepEqual(rows, ['Ready Active ', 'Ready Active Leader']);
    const worker = JSON.parse(await n1.dockerOk(['node', 'ls', '--filter', 'role=worker', '--format', '{{json .}}'])) as { ID: string };
    const [inspect] = JSON.parse(await n1.dockerOk(['node', 'inspect', worker.ID])) as [{ Status: { Addr: string }; Spec: { Role: string } }];
    assert.equal(inspect.Status.Addr, n2.ip);
    assert.equal(inspect.Spec.Role, 'worker');
    const refused = await n2.docker(['node', 'ls']);
    assert.match(refused.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state\./);
  });

  test('a worker killed with -9 and restarted is still in the swarm and Ready again', async () => {
    const before = (await n2.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim();
    n2.kill9();
    await n2.restart();
    assert.equal((await n2.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}'])).trim(), `active ${before}`);
    await waitFor(async () => (await n1.dockerOk(['node', 'inspect', '--format', '{{.Status.State}}', before])).trim() === 'ready', 15_000, 'worker ready');
  });

  test('the worker leaves without --force; the manager shows it Down and can remove it', async () => {
    assert.match(await n2.dockerOk(['swarm', 'leave']), /Node left the swarm\./);
    assert.equal(existsSync(join(n2.daemon.dataRoot, 'swarm')), false);
    const id = (await n1.dockerOk(['node', 'ls', '-q', '--filter', 'role=worker'])).trim();
    await waitFor(async () => (await n1.dockerOk(['node', 'inspect', '--format', '{{.Status.State}}', id])).trim() === 'down', 15_000, 'worker down');
    await n1.dockerOk(['node', 'rm', id]);
    assert.equal((await n1.dockerOk(['node', 'ls', '-q'])).trim().split('\n').length, 1);
    await n1.dockerOk(['swarm', 'leave', '--force']);
    assert.deepEqual(pids(n1), []);
  });
});
