/**
 * `docker service logs` with the real docker CLI on one 3-node cluster (n1
 * the manager, n2 and n3 workers): a 3-replica service with one task on
 * each node, whose tasks print two lines naming their container. The
 * manager merges its own task's lines with those it asks the workers for
 * over their swarm ports; `-f` follows a line printed after the call and
 * leaves no stream open on the nodes when the client goes, and follows a task
 * started after the call (a scale-up); a node off the LAN is left out with a
 * warning instead of a hang.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { DOCKER } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';

describe('docker service logs across nodes', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let n3: TestNode;
  /** The task container of `logs` on each node: its id (its hostname) and its task id. */
  const onNode = new Map<TestNode, { container: string; task: string }>();
  /** `logs.<slot>.<task id>@<node>    | <text>` lines, split. */
  const parse = (out: string) => out.trim().split('\n').filter(Boolean).map((l) => {
    const m = /^logs\.(\d)\.([0-9a-z]+)@(\S+)\s*\| (.*)$/.exec(l);
    assert.ok(m, `a formatted line: ${JSON.stringify(l)}`);
    return { slot: m[1]!, task: m[2]!, node: m[3]!, text: m[4]! };
  });
  /** Connections accepted on a node's swarm port (a worker's are only task-log streams). */
  const swarmPortConnections = async (n: TestNode) => {
    const r = await n.sh('ss', ['-Htn', 'state', 'established', '( sport = :2377 )']);
    return r.stdout.trim().split('\n').filter(Boolean).length;
  };

  before(async () => {
    // (the tasks pause between their lines: stdout and stderr are two pipes, which the daemon may read in either order)
    c = await TestCluster.start(3, { busybox: true });
    [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const n of [n2, n3]) await n.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    await n1.dockerOk(['service', 'create', '-d', '--name', 'logs', '--replicas', '3', 'busybox', 'sh', '-c', 'echo "one $(hostname)"; sleep 0.5; echo "two $(hostname)" >&2; exec sleep 3600']);
    await waitFor(async () => {
      for (const n of [n1, n2, n3]) {
        const out = (await n.dockerOk(['ps', '--no-trunc', '--filter', 'label=com.docker.swarm.service.name=logs', '--format', '{{.ID}} {{.Label "com.docker.swarm.task.id"}}'])).trim();
        if (out.split('\n').filter(Boolean).length !== 1) return false;
        const [container, task] = out.split(' ');
        onNode.set(n, { container: container!, task: task! });
      }
      return true;
    }, 90_000, 'one task of logs running on each node');
  });
  after(() => c?.destroy());

  test('service logs shows both lines of every task, each with its slot, task id and node', async () => {
    let lines: ReturnType<typeof parse> = [];
    await waitFor(async () => {
      const r = await n1.docker(['service', 'logs', 'logs']);
      assert.equal(r.code, 0, r.stderr);
      return (lines = parse(r.stdout + r.stderr)).length === 6;
    }, 20_000, 'six lines');
    for (const [, { container, task }] of onNode) {
      const mine = lines.filter((l) => l.task === task.slice(0, 12));
      assert.deepEqual(mine.map((l) => l.text).sort(), [`one ${container.slice(0, 12)}`, `two ${container.slice(0, 12)}`]);
      assert.equal(new Set(mine.map((l) => l.slot)).size, 1);
    }
    assert.deepEqual([...new Set(lines.map((l) => l.slot))].sort(), ['1', '2', '3']);
  });

  test('berth service logs prints what docker service logs prints (lines of different tasks compared sorted)', async () => {
    const sorted = (s: string) => s.split('\n').sort().join('\n');
    for (const args of [['logs'], ['--no-trunc', 'logs'], ['--no-task-ids', '--tail', '1', 'logs'], ['--raw', 'logs'], ['--no-resolve', 'logs'], ['--details', 'logs'], ['-t', '--tail', '1', 'logs'], [onNode.get(n2)!.task], ['nosuch']]) {
      const [a, b] = await Promise.all([n1.docker(['service', 'logs', ...args]), n1.berth(['service', 'logs', ...args])]);
      const what = `service logs ${args.join(' ')}`;
      assert.equal(b.code, a.code, `${what}: ${b.stderr}`);
      assert.equal(sorted(b.stdout), sorted(a.stdout), what);
      assert.equal(sorted(b.stderr), sorted(a.stderr), what);
    }
  });

  test('stderr lines come out on stderr; --no-task-ids, --no-trunc and --raw format as the CLI does', async () => {
    const r = await n1.docker(['service', 'logs', '--no-trunc', 'logs']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parse(r.stdout).filter((l) => l.text.startsWith('one ')).length, 3);
    const errLines = parse(r.stderr);
    assert.equal(errLines.length, 3);
    assert.ok(errLines.every((l) => l.text.startsWith('two ') && l.task.length === 25));
    const noIds = await n1.dockerOk(['service', 'logs', '--no-task-ids', 'logs']);
    for (const l of noIds.trim().split('\n')) assert.match(l, /^logs\.\d@\S+\s*\| one [0-9a-f]{12}$/);
    const raw = await n1.docker(['service', 'logs', '--raw', 'logs']);
    assert.deepEqual(raw.stdout.trim().split('\n').sort(), [...onNode.values()].map((v) => `one ${v.container.slice(0, 12)}`).sort());
  });

  test('--tail 1 gives the last line of each task; -t puts a timestamp first', async () => {
    const r = await n1.docker(['service', 'logs', '--tail', '1', 'logs']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(parse(r.stderr).length, 3);
    const t = await n1.dockerOk(['service', 'logs', '-t', '--raw', '--tail', '1', '--no-task-ids', 'logs']);
    assert.equal(t, '');
    const ts = await n1.docker(['service', 'logs', '-t', 'logs']);
    for (const l of ts.stdout.trim().split('\n')) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z logs\.\d\.[0-9a-z]{12}@\S+\s*\| one /);
  });

  test('--since in the future shows nothing; a task id shows that task only', async () => {
    const future = String(Math.floor(Date.now() / 1000) + 3600);
    const r = await n1.docker(['service', 'logs', '--since', future, 'logs']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    const { task, container } = onNode.get(n3)!;
    const one = await n1.docker(['service', 'logs', task]);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(parse(one.stdout + one.stderr).map((l) => `${l.task} ${l.text}`).sort(), [`${task.slice(0, 12)} one ${container.slice(0, 12)}`, `${task.slice(0, 12)} two ${container.slice(0, 12)}`]);
  });

  test('errors as dockerd: an unknown service or task, a worker', async () => {
    const none = await n1.docker(['service', 'logs', 'nosuch']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no such task or service: nosuch/);
    const api = await n1.daemon.http('GET', '/v1.47/services/nosuch/logs?stdout=1');
    assert.equal(api.status, 404);
    assert.equal(JSON.parse(api.body).message, 'service nosuch not found');
    const worker = await n2.docker(['service', 'logs', 'logs']);
    assert.notEqual(worker.code, 0);
    assert.match(worker.stderr, /This node is not a swarm manager/);
  });

  test('-f follows a line printed after the call started, and the nodes close their streams when the client goes', async () => {
    const child = spawn(DOCKER, ['service', 'logs', '-f', '--tail', '0', 'logs'], { env: { ...process.env, ...n1.daemon.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // the manager has asked both workers once each holds a stream open
      await waitFor(async () => (await swarmPortConnections(n2)) === 1 && (await swarmPortConnections(n3)) === 1, 20_000, 'streams from n2 and n3');
      const { container, task } = onNode.get(n3)!;
      await n3.dockerOk(['exec', container, 'sh', '-c', 'echo late line >/proc/1/fd/1']);
      await waitFor(async () => out.includes('late line'), 20_000, `the late line in ${JSON.stringify(out)}`);
      assert.deepEqual(parse(out).map((l) => `${l.task} ${l.text}`), [`${task.slice(0, 12)} late line`]);
      assert.equal(child.exitCode, null, 'still following');
    } finally {
      child.kill('SIGTERM');
    }
    await waitFor(async () => (await swarmPortConnections(n2)) === 0 && (await swarmPortConnections(n3)) === 0, 15_000, 'no stream left open on the workers');
  });

  test('a node off the LAN is left out with a warning line, not a hang', async () => {
    n3.unplug();
    try {
      const started = Date.now();
      const r = await n1.docker(['service', 'logs', 'logs'], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Date.now() - started < 15_000, `answered in ${Date.now() - started} ms`);
      const lines = parse(r.stdout + r.stderr);
      assert.equal(lines.filter((l) => /^(one|two) /.test(l.text)).length, 4);
      const warn = lines.filter((l) => l.text.startsWith('warning: '));
      assert.equal(warn.length, 1, JSON.stringify(lines));
      assert.match(warn[0]!.text, /the logs of node \S+ are left out: .*timed out/);
      assert.equal(warn[0]!.task, onNode.get(n3)!.task.slice(0, 12));
    } finally {
      n3.plug();
    }
  });

  // last: the fourth task's container stays on its node after the scale-down, and its lines with it
  test('-f follows a task the service starts after the call, from its first line', async () => {
    const child = spawn(DOCKER, ['service', 'logs', '-f', '--tail', '0', 'logs'], { env: { ...process.env, ...n1.daemon.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => (await swarmPortConnections(n2)) === 1 && (await swarmPortConnections(n3)) === 1, 20_000, 'streams from n2 and n3');
      await n1.dockerOk(['service', 'scale', '-d', 'logs=4']);
      await waitFor(async () => parse(out).some((l) => l.slot === '4' && l.text.startsWith('one ')), 90_000, `the new task's first line in ${JSON.stringify(out)}`);
      const fourth = parse(out).filter((l) => l.slot === '4');
      assert.deepEqual(new Set(fourth.map((l) => l.task)).size, 1);
      assert.ok(parse(out).every((l) => l.slot === '4'), 'the running tasks printed nothing new');
      assert.equal(child.exitCode, null, 'still following');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
