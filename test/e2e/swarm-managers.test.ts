/**
 * Swarm managers on etcd, with the real docker CLI on one 3-node cluster,
 * in order: two nodes join with the manager token (each an etcd member);
 * one leader elected through etcd; a manager's berthd killed with its etcd
 * (the rest keep answering, it shows Down/Unreachable, then comes back);
 * an etcd surviving its berthd keeps counting for quorum; quorum lost ->
 * dockerd's "no leader" error, fast; the leader's berthd killed -> another
 * manager orchestrates (a service keeps its replicas, a new one is created);
 * demote/promote move the etcd member;
 * leave and node rm refusals in dockerd's words. Every etcd started here is
 * killed by pid in `after` if a test failed before leave did it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

const NO_LEADER = "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

describe('swarm managers on etcd with the docker CLI', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let n3: TestNode;
  const ids = new Map<TestNode, string>();
  const etcdDir = (n: TestNode) => join(n.daemon.dataRoot, 'swarm', 'etcd');
  /** node id -> "STATUS MANAGER-STATUS" as `docker node ls` on `on` shows them. */
  const table = async (on: TestNode): Promise<Map<string, string>> => {
    const out = await on.dockerOk(['node', 'ls', '--format', '{{.ID}} {{.Status}} {{.ManagerStatus}}']);
    return new Map(out.trim().split('\n').map((l) => { const [id, ...rest] = l.trim().split(' '); return [id!, rest.join(' ').trim()]; }));
  };
  /** The same, or an empty map while the swarm answers "no leader" (etcd re-electing after a member died, ~1-2 s). */
  const tableWhileElecting = async (on: TestNode): Promise<Map<string, string>> => {
    const r = await on.docker(['node', 'ls', '--format', '{{.ID}} {{.Status}} {{.ManagerStatus}}']);
    if (r.code !== 0) {
      assert.match(r.stderr, /The swarm does not have a leader/);
      return new Map();
    }
    return new Map(r.stdout.trim().split('\n').map((l) => { const [id, ...rest] = l.trim().split(' '); return [id!, rest.join(' ').trim()]; }));
  };
  const etcdMembers = async (on: TestNode): Promise<string[]> => {
    const certs = join(on.daemon.dataRoot, 'swarm', 'certificates');
    const r = await on.sh('etcdctl', ['--endpoints', `https://${on.ip}:2379`, '--cacert', join(certs, 'swarm-root-ca.crt'), '--cert', join(certs, 'swarm-node.crt'),
      '--key', join(certs, 'swarm-node.key'), '--command-timeout=5s', 'member', 'list', '-w', 'simple']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => l.split(', ')[2]!).sort();
  };
  /** kill -9 of berthd, then of its etcd (berthd first, or it would restart etcd). */
  const crash = (n: TestNode) => {
    n.kill9();
    const pid = n.etcdPid();
    if (pid) process.kill(pid, 'SIGKILL');
  };

  before(async () => {
    c = await TestCluster.start(3, { busybox: true });
    [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
  });
  after(() => c?.destroy());

  test('two nodes join with the manager token: each runs an etcd member and the swarm shows three managers', async () => {
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'manager'])).trim();
    assert.match(await n2.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]), /This node joined a swarm as a manager\./);
    // n3 joins through n2: any manager admits
    assert.match(await n3.dockerOk(['swarm', 'join', '--token', token, `${n2.ip}:2377`]), /This node joined a swarm as a manager\./);
    for (const n of [n1, n2, n3]) {
      ids.set(n, (await n.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim());
      assert.ok(n.etcdPid(), `${n.name} runs etcd`);
    }
    assert.deepEqual(await etcdMembers(n3), [...ids.values()].sort());
    const info = JSON.parse(await n3.dockerOk(['info', '--format', '{{json .Swarm}}'])) as { ControlAvailable: boolean; Managers: number; Nodes: number; RemoteManagers: { NodeID: string; Addr: string }[] };
    assert.equal(info.ControlAvailable, true);
    assert.equal(info.Managers, 3);
    assert.equal(info.Nodes, 3);
    assert.deepEqual(info.RemoteManagers.map((m) => m.Addr).sort(), [n1, n2, n3].map((n) => `${n.ip}:2377`).sort());
    const rows = [...(await table(n2)).values()].sort();
    assert.deepEqual(rows, ['Ready Leader', 'Ready Reachable', 'Ready Reachable']);
    const [leader] = JSON.parse(await n3.dockerOk(['node', 'inspect', ids.get(n1)!])) as [{ ManagerStatus: unknown }];
    assert.deepEqual(leader.ManagerStatus, { Leader: true, Reachability: 'reachable', Addr: `${n1.ip}:2377` });
  });

  test('swarm leave on one of three managers is refused in dockerd\'s words', async () => {
    const r = await n3.docker(['swarm', 'leave']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /You are attempting to leave the swarm on a node that is participating as a manager\. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`\. Use `--force` to suppress this message\./);
    const rm = await n1.docker(['node', 'rm', ids.get(n3)!]);
    assert.match(rm.stderr, new RegExp(`node ${ids.get(n3)} is a cluster manager and is a member of the raft cluster\\. It must be demoted to worker before removal`));
  });

  test('a manager whose berthd dies keeps its etcd in the quorum; one killed with its etcd shows Down/Unreachable, a new leader is elected, and it comes back', async () => {
    const n3etcd = n3.etcdPid();
    n3.kill9(); // berthd only: its etcd keeps serving
    crash(n1); // the leader, with its etcd: quorum now rests on n2's and n3's members
    await waitFor(async () => (await tableWhileElecting(n2)).get(ids.get(n1)!) === 'Down Unreachable', 15_000, 'n1 down and unreachable');
    // the leader key went with n1's lease; n2 is the only manager whose berthd campaigns
    await waitFor(async () => (await table(n2)).get(ids.get(n2)!) === 'Ready Leader', 10_000, 'n2 leader');
    assert.equal(n3.etcdPid(), n3etcd, "n3's etcd kept running without its berthd");
    await Promise.all([n1.restart(), n3.restart()]);
    assert.equal(n3.etcdPid(), n3etcd, 'the restarted berthd adopted it');
    await waitFor(async () => [...(await tableWhileElecting(n1)).values()].filter((v) => v === 'Ready Reachable').length === 2, 20_000, 'n1 and n3 back, reachable');
    assert.equal([...(await table(n3)).values()].filter((v) => v === 'Ready Leader').length, 1);
  });

  test('two of three managers lost: docker node ls fails fast with dockerd\'s "no leader" message, never hangs', async (t) => {
    crash(n1);
    crash(n3);
    // etcd notices the lost quorum after an election timeout; then every request fails within the store timeout
    await new Promise((r) => setTimeout(r, 2000));
    const t0 = Date.now();
    const r = await n2.docker(['node', 'ls'], { timeoutMs: 30_000 });
    const took = Date.now() - t0;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(NO_LEADER.replace(/[.()]/g, '\\$&')));
    assert.ok(took < 10_000, `took ${took} ms`);
    t.diagnostic(`docker node ls failed after ${took} ms`);
    const http = await n2.daemon.http('GET', '/nodes');
    assert.equal(http.status, 503);
    await Promise.all([n1.restart(), n3.restart()]);
    await waitFor(async () => [...(await tableWhileElecting(n2)).values()].filter((v) => v.startsWith('Ready')).length === 3, 30_000, 'all three ready again');
    // each restarted manager answers through its own member, and one of the three leads
    for (const n of [n1, n3]) await waitFor(async () => [...(await tableWhileElecting(n)).values()].includes('Ready Leader'), 15_000, `${n.name} answers with a leader`);
  });

  test('kill -9 of the leading manager\'s berthd: another manager orchestrates within 15 s, the service keeps its replicas, a new service can be created', async () => {
    await n2.dockerOk(['service', 'create', '-d', '--name', 'keep', '--replicas', '3', '--stop-signal', 'KILL', 'busybox', 'sleep', '1d']);
    const replicas = async (on: TestNode, name: string) => (await on.dockerOk(['service', 'ls', '--filter', `name=${name}`, '--format', '{{.Replicas}}'])).trim();
    await waitFor(async () => (await replicas(n2, 'keep')) === '3/3', 60_000, 'keep 3/3');
    const leaderId = [...(await table(n2)).entries()].find(([, v]) => v === 'Ready Leader')![0];
    const leader = [n1, n2, n3].find((n) => ids.get(n) === leaderId)!;
    const [a, b] = [n1, n2, n3].filter((n) => n !== leader) as [TestNode, TestNode];
    leader.kill9(); // berthd only: its etcd member stays, so the quorum holds
    const t0 = Date.now();
    await waitFor(async () => [...(await tableWhileElecting(a)).entries()].some(([id, v]) => id !== leaderId && v === 'Ready Leader'), 15_000, 'a new leader');
    const took = Date.now() - t0;
    assert.ok(took < 15_000, `a new leader after ${took} ms`);
    // the dead node's task is replaced once its heartbeat expires; the count never stays short
    await waitFor(async () => (await tableWhileElecting(a)).get(leaderId) === 'Down Unreachable', 30_000, 'old leader down');
    await waitFor(async () => (await replicas(a, 'keep')) === '3/3', 60_000, 'keep 3/3 on the two live nodes');
    await b.dockerOk(['service', 'create', '-d', '--name', 'after', '--replicas', '2', '--stop-signal', 'KILL', 'busybox', 'sleep', '1d']);
    await waitFor(async () => (await replicas(a, 'after')) === '2/2', 60_000, 'after 2/2');
    await leader.restart();
    await a.dockerOk(['service', 'rm', 'keep', 'after']);
    for (const n of [n1, n2, n3]) await waitFor(async () => (await n.dockerOk(['ps', '-aq'])).trim() === '', 60_000, `${n.name}: task containers gone`);
  });

  test('node demote moves a manager\'s etcd member out and it goes on as a worker; node update --role manager brings it back', async () => {
    const id3 = ids.get(n3)!;
    assert.match(await n1.dockerOk(['node', 'demote', id3]), new RegExp(`Manager ${id3} demoted in the swarm\\.`));
    await waitFor(async () => (await n3.dockerOk(['info', '--format', '{{.Swarm.ControlAvailable}}'])).trim() === 'false', 30_000, 'n3 a worker');
    await waitFor(async () => n3.etcdPid() === undefined, 10_000, 'n3 etcd stopped');
    assert.equal(existsSync(etcdDir(n3)), false);
    assert.deepEqual(await etcdMembers(n1), [ids.get(n1)!, ids.get(n2)!].sort());
    await waitFor(async () => (await table(n1)).get(id3) === 'Ready', 15_000, 'n3 ready as a worker');
    assert.match((await n3.docker(['node', 'ls'])).stderr, /Worker nodes can't be used to view or modify cluster state/);

    await n2.dockerOk(['node', 'update', '--role', 'manager', id3]);
    await waitFor(async () => (await n3.dockerOk(['info', '--format', '{{.Swarm.ControlAvailable}}'])).trim() === 'true', 40_000, 'n3 a manager again');
    assert.ok(n3.etcdPid());
    assert.deepEqual(await etcdMembers(n3), [...ids.values()].sort());
    // (its new member syncs the store first; a loaded CI run took over 15 s). A ready manager shows
    // Reachable, or Leader if it won an election meanwhile (the leader's lease lapsing under load)
    let seen = new Map<string, string>();
    const readyManager = (m: Map<string, string>) => ['Ready Reachable', 'Ready Leader'].includes(m.get(id3) ?? '') && [...m.values()].filter((v) => v === 'Ready Leader').length === 1;
    await waitFor(async () => readyManager(seen = await table(n3)), 45_000, () => `n3 a ready manager (n3 shows ${JSON.stringify([...seen])}; its log: ${n3.daemon.logs.slice(-3000)})`);
  });

  test('leave --force on a manager removes its member; the others keep working; rm needs a demote first, then works', async () => {
    const id3 = ids.get(n3)!;
    assert.match(await n3.dockerOk(['swarm', 'leave', '--force']), /Node left the swarm\./);
    assert.equal(n3.etcdPid(), undefined);
    assert.deepEqual(await etcdMembers(n1), [ids.get(n1)!, ids.get(n2)!].sort());
    await waitFor(async () => (await table(n2)).get(id3) === 'Down Unreachable', 15_000, 'n3 down');
    const rm = await n1.docker(['node', 'rm', id3]);
    assert.match(rm.stderr, /must be demoted to worker before removal/);
    await n1.dockerOk(['node', 'demote', id3]);
    await n1.dockerOk(['node', 'rm', id3]);
    // (n3 may have led: the two left elect one of them)
    await waitFor(async () => JSON.stringify([...(await table(n2)).values()].sort()) === '["Ready Leader","Ready Reachable"]', 10_000, 'n1 and n2: a leader and a reachable manager');
    // two managers: leaving would break the quorum, and dockerd says so
    const r = await n2.docker(['swarm', 'leave']);
    assert.match(r.stderr, /Removing this node leaves 1 managers out of 2\. Without a Raft quorum your swarm will be inaccessible\./);
  });

  test('node rm of a ready worker needs --force; the last manager cannot be demoted', async () => {
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    await n3.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    const id3 = (await n3.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim();
    const rm = await n1.docker(['node', 'rm', id3]);
    assert.match(rm.stderr, new RegExp(`node ${id3} is not down and can't be removed`));
    await n1.dockerOk(['node', 'rm', '--force', id3]);
    assert.equal((await table(n1)).has(id3), false);
    await n3.dockerOk(['swarm', 'leave', '--force']);

    await n1.dockerOk(['node', 'demote', ids.get(n2)!]);
    await waitFor(async () => n2.etcdPid() === undefined, 30_000, 'n2 etcd stopped');
    const last = await n1.docker(['node', 'demote', ids.get(n1)!]);
    assert.match(last.stderr, /attempting to demote the last manager of the swarm/);
    await n2.dockerOk(['swarm', 'leave']);
    await n1.dockerOk(['swarm', 'leave', '--force']);
    assert.equal(n1.etcdPid(), undefined);
  });
});
