/**
 * The orchestrator's policies with the real docker CLI, on one 3-node
 * cluster (n1 the manager with zone=a, n2 zone=a, n3 zone=b; busybox on
 * each): service names unique under a race, a failed task shut down at
 * once with its restart waiting (desired Ready), restart attempts beyond
 * the task history kept, stop-first waiting for the old task to stop,
 * placement preferences and max replicas per node, healthchecks gating
 * `running`, and `swarm leave` removing the node's task containers.
 * Services that need no grace stop with KILL, to keep the file short.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

describe('swarm service policies with the docker CLI', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let n3: TestNode;
  const spread = async (service: string) => Promise.all([n1, n2, n3].map((n) => n.serviceContainers(service).then((l) => l.length)));
  /** `service ps` rows: name (with the CLI's `\_ ` for history), desired state, current state, error. */
  const tasks = async (service: string) => {
    const out = await n1.dockerOk(['service', 'ps', service, '--no-trunc', '--format', '{{.ID}}|{{.Name}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}']);
    return out.trim().split('\n').filter(Boolean).map((l) => {
      const [id, name, desired, current, err] = l.split('|');
      return { id: id!, name: name!.trim(), desired: desired!, current: current!, err: err! };
    });
  };

  before(async () => {
    c = await TestCluster.start(3, { busybox: true });
    [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const n of [n2, n3]) await n.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    for (const [n, zone] of [[n1, 'a'], [n2, 'a'], [n3, 'b']] as const) {
      const id = (await n.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim();
      await n1.dockerOk(['node', 'update', '--label-add', `zone=${zone}`, id]);
    }
  });
  after(() => c?.destroy());

  test('two creates of one name at once: one wins, the other gets swarmkit\'s AlreadyExists', async () => {
    const args = ['service', 'create', '-d', '--name', 'dup', '--stop-signal', 'KILL', 'busybox', 'sleep', '3600'];
    const [a, b] = await Promise.all([n1.docker(args), n1.docker(args)]);
    assert.deepEqual([a.code, b.code].sort(), [0, 1], `${a.stderr} ${b.stderr}`);
    assert.match((a.code ? a : b).stderr, /rpc error: code = AlreadyExists desc = name conflicts with an existing object: service dup already exists/);
    assert.equal((await n1.dockerOk(['service', 'ls', '--filter', 'name=dup', '-q'])).trim().split('\n').length, 1);
    await n1.dockerOk(['service', 'rm', 'dup']);
  });

  test('a failed task is Shutdown/Failed at once, its restart waits as Ready; MaxAttempts holds beyond the history kept', async () => {
    // history of 2 per slot, 3 attempts: the old count (over the tasks kept) never reached 3
    await n1.dockerOk(['swarm', 'update', '--task-history-limit', '2']);
    await n1.dockerOk(['service', 'create', '-d', '--name', 'crash', '--restart-delay', '2s', '--restart-max-attempts', '3', 'busybox', 'sh', '-c', 'exit 3']);
    try {
      // the CLI's table: the waiting restart on top, the failed task below it as history
      let table = '';
      await waitFor(async () => {
        table = await n1.dockerOk(['service', 'ps', 'crash']);
        return /crash\.1 +busybox:latest +\S+ +Ready +/.test(table) && /\\_ crash\.1 +busybox:latest +\S+ +Shutdown +Failed .*"task: non-zero exit \(3\)"/.test(table);
      }, 30_000, 'a Shutdown/Failed task and its restart waiting as Ready').catch((err: Error) => assert.fail(`${err.message}:\n${table}`));
      const seen = new Set<string>();
      await waitFor(async () => {
        for (const r of await tasks('crash')) seen.add(r.id);
        return seen.size >= 4;
      }, 60_000, 'the first task and three restarts');
      await waitFor(async () => (await tasks('crash')).every((r) => r.desired === 'Shutdown' && r.current.startsWith('Failed')), 20_000, 'the last attempt failed');
      // longer than the 2 s delay: a fourth restart would have been created by now
      await new Promise((r) => setTimeout(r, 4000));
      for (const r of await tasks('crash')) seen.add(r.id);
      assert.equal(seen.size, 4, 'no fifth task');
    } finally {
      await n1.dockerOk(['service', 'rm', 'crash']);
      await n1.dockerOk(['swarm', 'update', '--task-history-limit', '5']);
    }
  });

  test('stop-first: the new task starts only once the old one has stopped', async () => {
    // the old container takes ~3 s to stop (its TERM trap): with no wait both would run meanwhile
    await n1.dockerOk(['service', 'create', '-d', '--name', 'sf', 'busybox', 'sh', '-c', 'trap "sleep 3; exit 0" TERM; while :; do sleep 1; done']);
    await waitFor(async () => (await spread('sf')).reduce((a, b) => a + b, 0) === 1, 60_000, 'sf running');
    await n1.dockerOk(['service', 'update', '-d', '--env-add', 'V=2', 'sf']);
    let most = 0;
    let sawReady = false;
    await waitFor(async () => {
      const [count, rows] = await Promise.all([spread('sf').then((s) => s.reduce((a, b) => a + b, 0)), tasks('sf')]);
      most = Math.max(most, count);
      if (rows.some((r) => r.desired === 'Ready')) sawReady = true;
      return count === 1 && rows.some((r) => r.desired === 'Running' && r.current.startsWith('Running')) && rows.length === 2;
    }, 60_000, 'sf updated');
    assert.equal(most, 1, 'never two containers of the slot running at once');
    assert.ok(sawReady, 'the new task waited as Ready');
    await n1.dockerOk(['service', 'rm', 'sf']);
  });

  test('--placement-pref spread=node.labels.zone spreads over zones; --replicas-max-per-node leaves the rest pending', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'zoned', '--replicas', '4', '--placement-pref', 'spread=node.labels.zone', '--stop-signal', 'KILL', 'busybox', 'sleep', '3600']);
    await n1.dockerOk(['service', 'create', '-d', '--name', 'capped', '--replicas', '4', '--replicas-max-per-node', '1', '--stop-signal', 'KILL', 'busybox', 'sleep', '3600']);
    try {
      // per node alone would give zone a (n1, n2) three of four
      await waitFor(async () => (await spread('zoned')).reduce((a, b) => a + b, 0) === 4, 60_000, 'zoned 4 running');
      const [a1, a2, b] = await spread('zoned');
      assert.deepEqual([a1! + a2!, b], [2, 2]);
      await waitFor(async () => (await tasks('capped')).some((r) => r.err === '"no suitable node (max replicas per node limit exceed)"'), 30_000, 'the reason');
      await waitFor(async () => (await spread('capped')).join() === '1,1,1', 60_000, 'one per node');
    } finally {
      await n1.dockerOk(['service', 'rm', 'zoned', 'capped']);
    }
  });

  test('a healthcheck keeps the task Starting until healthy; an unhealthy task fails and is replaced', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'hc', '--stop-signal', 'KILL', '--health-cmd', 'test -e /tmp/ok', '--health-interval', '1s', '--health-retries', '1', '--health-start-period', '30s',
      'busybox', 'sh', '-c', 'sleep 4; touch /tmp/ok; sleep 3600']);
    await n1.dockerOk(['service', 'create', '-d', '--name', 'sick', '--stop-signal', 'KILL', '--restart-delay', '1s', '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1',
      'busybox', 'sleep', '3600']);
    try {
      // its container runs while the task says Starting
      await waitFor(async () => {
        const [rows, names] = await Promise.all([tasks('hc'), spread('hc')]);
        return (rows[0]?.current.startsWith('Starting') ?? false) && names.reduce((x, y) => x + y, 0) === 1;
      }, 30_000, 'hc starting with its container running');
      await waitFor(async () => (await tasks('hc'))[0]?.current.startsWith('Running') ?? false, 30_000, 'hc running once healthy').catch(async (err: Error) => {
        const health = await Promise.all([n1, n2, n3].map(async (n) => (await n.docker(['inspect', '--format', '{{json .State.Health}}', ...(await n.serviceContainers('hc'))])).stdout));
        assert.fail(`${err.message}: ${JSON.stringify(await tasks('hc'))} ${health.join(' ')}`);
      });
      const [first] = await tasks('hc');
      assert.equal(first!.desired, 'Running');
      await waitFor(async () => (await tasks('sick')).some((r) => r.err === '"dockerexec: unhealthy container"' && r.desired === 'Shutdown'), 30_000, 'sick failed as unhealthy');
      assert.ok((await tasks('sick')).length >= 2, 'and replaced');
    } finally {
      await n1.dockerOk(['service', 'rm', 'hc', 'sick']);
    }
  });

  test('swarm leave removes the node\'s task containers', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'g', '--mode', 'global', '--stop-signal', 'KILL', 'busybox', 'sleep', '3600']);
    await waitFor(async () => (await n3.serviceContainers('g')).length === 1, 60_000, 'g on n3');
    await n3.dockerOk(['swarm', 'leave']);
    assert.equal((await n3.dockerOk(['ps', '-a', '-q', '--filter', 'label=com.docker.swarm.task'])).trim(), '');
  });
});
