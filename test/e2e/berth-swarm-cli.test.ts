/**
 * The berth CLI's cluster commands (swarm, node, service) against berthd on
 * one 2-node cluster, checked against what the docker CLI prints for the
 * same daemon state where the output is deterministic: init and join-token
 * text, join, node ls/inspect --pretty, node update, promote/demote,
 * service create (-d and waiting) / ls / ps / scale / rm, an overlay network
 * made with berth, and leave. The etcd members started here are killed by
 * pid in `after` if a test failed before leave did it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

describe('berth swarm, node and service commands', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let id1 = '';
  let id2 = '';
  const run = (client: 'berth' | 'docker') => async (n: TestNode, args: string[]) => {
    const r = await (client === 'berth' ? n.berth(args, { timeoutMs: 120_000 }) : n.docker(args));
    assert.equal(r.code, 0, `${n.name}: ${client} ${args.join(' ')}: ${r.stderr}\n${n.daemon.logs.slice(-2000)}`);
    return r.stdout;
  };
  const berth = run('berth');
  const docker = run('docker');
  /** The same command with both clients prints the same. */
  const same = async (n: TestNode, args: string[]) => {
    const b = await berth(n, args);
    assert.equal(b, await docker(n, args), `berth ${args.join(' ')}`);
    return b;
  };
  const replicas = async (name: string) => (await berth(n1, ['service', 'ls', '--filter', `name=${name}`, '--format', '{{.Replicas}}'])).trim();

  before(async () => {
    c = await TestCluster.start(2, { busybox: true });
    [n1, n2] = c.nodes as [TestNode, TestNode];
  });
  after(() => c?.destroy());

  test('swarm init prints docker\'s text; join-token prints what docker prints; join as a worker', async () => {
    const out = await berth(n1, ['swarm', 'init', '--advertise-addr', n1.ip, '--task-history-limit', '3']);
    const m = /^Swarm initialized: current node \(([0-9a-z]{25})\) is now a manager\.\n\nTo add a worker to this swarm, run the following command:\n\n {4}docker swarm join --token (SWMTKN-1-\S+) (\S+)\n\nTo add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions\.\n\n$/.exec(out);
    assert.ok(m, out);
    id1 = m[1]!;
    assert.equal(m[3], `${n1.ip}:2377`);
    assert.equal((await docker(n1, ['info', '--format', '{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}'])).trim(), '3');
    await same(n1, ['swarm', 'join-token', 'worker']);
    await same(n1, ['swarm', 'join-token', 'manager']);
    const token = (await same(n1, ['swarm', 'join-token', '-q', 'worker'])).trim();
    assert.equal(token, m[2]);
    assert.equal(await berth(n2, ['swarm', 'join', '--token', token, `${n1.ip}:2377`]), 'This node joined a swarm as a worker.\n');
    id2 = (await docker(n2, ['info', '--format', '{{.Swarm.NodeID}}'])).trim();
    assert.equal(await berth(n1, ['swarm', 'update', '--task-history-limit', '4']), 'Swarm updated.\n');
    assert.equal((await docker(n1, ['info', '--format', '{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}'])).trim(), '4');
  });

  test('node ls, ls -q, --format and inspect --pretty print what docker prints', async () => {
    await waitFor(async () => (await docker(n1, ['node', 'ls', '--format', '{{.Status}}'])).trim().split('\n').every((s) => s === 'Ready'), 30_000, 'both nodes Ready');
    const ls = await same(n1, ['node', 'ls']);
    assert.match(ls, /^ID +HOSTNAME +STATUS +AVAILABILITY +MANAGER STATUS +ENGINE VERSION\n/);
    assert.match(ls, new RegExp(`^${id1} \\* .*Ready +Active +Leader`, 'm'));
    assert.match(ls, new RegExp(`^${id2}   .*Ready +Active +\\S+\\n`, 'm'));
    await same(n1, ['node', 'ls', '-q']);
    await same(n1, ['node', 'ls', '--format', '{{.ID}} {{.Self}} {{.Hostname}} {{.ManagerStatus}}']);
    await same(n1, ['node', 'inspect', '--pretty', id2]);
    await same(n1, ['node', 'inspect', '--pretty', 'self']);
  });

  test('node update sets availability and labels; promote and demote say what docker says', async () => {
    assert.equal(await berth(n1, ['node', 'update', '--availability', 'drain', '--label-add', 'zone=a', '--label-add', 'tier', id2]), `${id2}\n`);
    assert.equal((await docker(n1, ['node', 'inspect', '--format', '{{.Spec.Availability}} {{json .Spec.Labels}}', id2])).trim(), 'drain {"tier":"","zone":"a"}');
    await berth(n1, ['node', 'update', '--availability', 'active', '--label-rm', 'tier', id2]);
    assert.equal((await docker(n1, ['node', 'inspect', '--format', '{{.Spec.Availability}} {{json .Spec.Labels}}', id2])).trim(), 'active {"zone":"a"}');
    assert.equal(await berth(n1, ['node', 'demote', id2]), `Node ${id2} is already a worker.\n`);
    assert.equal(await berth(n1, ['node', 'promote', id2]), `Node ${id2} promoted to a manager in the swarm.\n`);
    await waitFor(async () => (await docker(n1, ['node', 'inspect', '--format', '{{.ManagerStatus.Reachability}}', id2])).trim() === 'reachable', 60_000, 'n2 reachable manager');
    await same(n1, ['node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}']);
    assert.equal(await berth(n1, ['node', 'demote', id2]), `Manager ${id2} demoted in the swarm.\n`);
    await waitFor(async () => (await docker(n1, ['node', 'inspect', '--format', '{{.Spec.Role}}', id2])).trim() === 'worker', 60_000, 'n2 a worker again');
    const missing = await n1.berth(['node', 'update', '--availability', 'drain', 'nosuchnode']);
    const dockerMissing = await n1.docker(['node', 'update', '--availability', 'drain', 'nosuchnode']);
    assert.equal(missing.code, dockerMissing.code);
    assert.equal(missing.stderr, dockerMissing.stderr);
  });

  test('service create -d, ls, ps, scale, inspect --pretty and rm', async () => {
    const id = (await berth(n1, ['service', 'create', '-d', '--name', 'web', '--replicas', '2', '--env', 'A=1', '--label', 'l=v', '--restart-condition', 'on-failure', '--restart-max-attempts', '3', 'busybox', 'sleep', '3600'])).trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    const spec = JSON.parse(await docker(n1, ['service', 'inspect', '--format', '{{json .Spec}}', 'web'])) as { Labels: Record<string, string>; TaskTemplate: { ContainerSpec: { Image: string; Args: string[]; Env: string[] }; RestartPolicy: { Condition: string; MaxAttempts: number } }; Mode: { Replicated: { Replicas: number } } };
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.Args, ['sleep', '3600']);
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.Env, ['A=1']);
    assert.deepEqual(spec.TaskTemplate.RestartPolicy, { ...spec.TaskTemplate.RestartPolicy, Condition: 'on-failure', MaxAttempts: 3 });
    assert.deepEqual(spec.Labels, { l: 'v' });
    assert.equal(spec.Mode.Replicated.Replicas, 2);
    await waitFor(async () => (await replicas('web')) === '2/2', 90_000, 'web 2/2');
    const ls = await same(n1, ['service', 'ls']);
    assert.match(ls, /^ID +NAME +MODE +REPLICAS +IMAGE +PORTS\n\S{12} +web +replicated +2\/2 +busybox/);
    await same(n1, ['service', 'ls', '-q']);
    const ps = await berth(n1, ['service', 'ps', 'web']);
    assert.match(ps, /^ID +NAME +IMAGE +NODE +DESIRED STATE +CURRENT STATE +ERROR +PORTS\n/);
    assert.equal(ps.split('\n').filter((l) => / web\.\d +busybox +\S+ +Running +Running /.test(l)).length, 2, ps);
    assert.match(ps, /web\.1 +busybox +\S+ +Running +Running /);
    await same(n1, ['service', 'ps', '--format', '{{.ID}} {{.Name}} {{.Node}} {{.DesiredState}}', 'web']);
    await same(n1, ['service', 'ps', '-q', 'web']);

    assert.equal(await berth(n1, ['service', 'scale', '-d', 'web=3']), 'web scaled to 3\n');
    await waitFor(async () => (await replicas('web')) === '3/3', 90_000, 'web 3/3');
    assert.match(await berth(n1, ['service', 'inspect', '--pretty', 'web']), /Service Mode: +Replicated\n Replicas: +3\n/);

    // update waits for the replaced tasks; rollback puts the previous spec back
    const updated = await berth(n1, ['service', 'update', '--env-add', 'B=2', '--env-rm', 'A', 'web']);
    assert.match(updated, /^web\n[^]*verify: Service \S+ converged\n$/);
    const env = async () => JSON.parse(await docker(n1, ['service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}', 'web'])) as string[];
    assert.deepEqual(await env(), ['B=2']);
    assert.equal((await docker(n1, ['service', 'ps', '-q', '--filter', 'desired-state=running', 'web'])).trim().split('\n').length, 3);
    await same(n1, ['service', 'ps', '--format', '{{.Name}}|{{.DesiredState}}|{{.Node}}', 'web']);
    await same(n1, ['node', 'ps', '--format', '{{.Name}}|{{.DesiredState}}', 'self']);
    assert.equal(await berth(n1, ['service', 'rollback', '-d', 'web']), 'web\n');
    assert.deepEqual(await env(), ['A=1']);

    // without -d: the id, progress, then converged
    const waited = await berth(n1, ['service', 'create', '--name', 'once', 'busybox', 'sleep', '3600']);
    const lines = waited.trim().split('\n');
    assert.match(lines[0]!, /^[0-9a-z]{25}$/);
    assert.ok(lines.includes('overall progress: 1 out of 1 tasks'), waited);
    assert.equal(lines.at(-1), `verify: Service ${lines[0]} converged`);
    assert.ok(lines.includes('verify: Waiting 5 seconds to verify that tasks are stable...'), waited);
    assert.equal(await replicas('once'), '1/1');
    const bad = await n1.berth(['service', 'scale', 'once']);
    const dockerBad = await n1.docker(['service', 'scale', 'once']);
    assert.deepEqual([bad.code, bad.stderr], [dockerBad.code, dockerBad.stderr]);

    assert.equal(await berth(n1, ['service', 'rm', 'web', 'once']), 'web\nonce\n');
    assert.equal(await docker(n1, ['service', 'ls', '-q']), '');
    const gone = await n1.berth(['service', 'rm', 'web']);
    const dockerGone = await n1.docker(['service', 'rm', 'web']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, dockerGone.stderr);
  });

  test('network create -d overlay --attachable makes a swarm-scoped attachable network', async () => {
    await berth(n1, ['network', 'create', '-d', 'overlay', '--attachable', 'ov1']);
    assert.equal((await docker(n1, ['network', 'inspect', '--format', '{{.Scope}} {{.Attachable}}', 'ov1'])).trim(), 'swarm true');
    await berth(n1, ['network', 'rm', 'ov1']);
  });

  test('swarm leave: a worker leaves; the last manager is refused as docker is, then leaves with -f', async () => {
    assert.equal(await berth(n2, ['swarm', 'leave']), 'Node left the swarm.\n');
    const refused = await n1.berth(['swarm', 'leave']);
    const dockerRefused = await n1.docker(['swarm', 'leave']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, dockerRefused.stderr);
    assert.equal(await berth(n1, ['swarm', 'leave', '-f']), 'Node left the swarm.\n');
    assert.equal((await docker(n1, ['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim(), 'inactive');
  });
});
