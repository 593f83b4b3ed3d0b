/**
 * Swarm services with the real docker CLI on one 3-node cluster (n1 the
 * manager, n2 and n3 workers, busybox loaded on each), in order: create
 * (detached and waiting for convergence), ls and ps, spread on three nodes,
 * scale, a spec change replacing tasks and its rollback, constraints (possible and not),
 * the restart policy,
 * global mode, drain, a worker's berthd killed (its tasks run elsewhere
 * within 30 s), rm removing every container on every node. The etcd member
 * started here is killed by pid in `after` if a test failed before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

describe('swarm services with the docker CLI', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let n3: TestNode;
  const ids = new Map<TestNode, string>();
  let t0 = 0;
  const spread = async (service: string) => Promise.all([n1, n2, n3].map((n) => n.serviceContainers(service).then((l) => l.length)));
  const replicas = async (service: string) => (await n1.dockerOk(['service', 'ls', '--filter', `name=${service}`, '--format', '{{.Replicas}}'])).trim();
  /** `service ps` rows: "<task id> <node id> <desired> <current state word>". */
  const tasks = async (service: string, extra: string[] = []) => {
    const out = await n1.dockerOk(['service', 'ps', service, '--no-trunc', ...extra, '--format', '{{.ID}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}']);
    return out.trim().split('\n').filter(Boolean).map((l) => { const [id, desired, current, err] = l.split('|'); return { id: id!, desired: desired!, current: current!, err: err! }; });
  };
  const nodeOf = async (taskId: string) => (await n1.dockerOk(['inspect', '--type', 'task', '--format', '{{.NodeID}}', taskId])).trim();

  before(async () => {
    c = await TestCluster.start(3, { busybox: true });
    [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
  });
  after(() => c?.destroy());

  test('a manager and two workers', async () => {
    t0 = Math.floor(Date.now() / 1000);
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const n of [n2, n3]) assert.match(await n.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]), /This node joined a swarm as a worker\./);
    for (const n of [n1, n2, n3]) ids.set(n, (await n.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim());
  });

  test('service create -d runs three replicas, one on each node; ls shows 3/3 and ps Running', async () => {
    // KILL: stop-first updates wait for each old task to stop, and busybox sleep ignores TERM (10 s grace per task)
    const id = (await n1.dockerOk(['service', 'create', '-d', '--name', 'web', '--replicas', '3', '--stop-signal', 'KILL', 'busybox', 'sleep', '3600'])).trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    await waitFor(async () => (await replicas('web')) === '3/3', 60_000, 'web 3/3');
    assert.deepEqual(await spread('web'), [1, 1, 1]);
    const rows = await tasks('web');
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.equal(r.desired, 'Running');
      assert.match(r.current, /^Running /);
    }
    for (const n of [n1, n2, n3]) {
      const [name] = await n.serviceContainers('web');
      assert.match(name!, /^web\.[123]\.[0-9a-z]{25}$/);
      const labels = JSON.parse(await n.dockerOk(['inspect', '--format', '{{json .Config.Labels}}', name!])) as Record<string, string>;
      assert.equal(labels['com.docker.swarm.service.id'], id);
      assert.equal(labels['com.docker.swarm.service.name'], 'web');
      assert.equal(labels['com.docker.swarm.node.id'], ids.get(n));
      assert.equal(labels['com.docker.swarm.task.name'], name);
    }
  });

  test('service create without -d waits for the tasks and says the service converged', async () => {
    const r = await n1.docker(['service', 'create', '--name', 'fg', '--replicas', '2', 'busybox', 'sleep', '3600'], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /converged/);
    // no registry on this LAN: dockerd's answer to /distribution/busybox/json is an error, and the CLI goes on unpinned
    assert.match(r.stderr, /image busybox:latest could not be accessed on a registry to record\s+its digest/);
    assert.equal(await replicas('fg'), '2/2');
    await n1.dockerOk(['service', 'rm', 'fg']);
  });

  test('a worker refuses service commands with dockerd\'s words', async () => {
    const r = await n2.docker(['service', 'ls']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state\./);
  });

  test('service scale web=5 waits for five running tasks', async () => {
    // without -d the CLI follows the new tasks (the `_up-to-date` task filter) until they run
    const out = await n1.dockerOk(['service', 'scale', 'web=5'], { timeoutMs: 120_000 });
    assert.match(out, /web scaled to 5/);
    assert.equal(await replicas('web'), '5/5');
    const counts = await spread('web');
    assert.equal(counts.reduce((a, b) => a + b, 0), 5);
    assert.ok(counts.every((k) => k >= 1 && k <= 2), `spread ${counts.join(',')}`);
  });

  test('the manager\'s docker events tell the nodes joining and the service created and scaled (scope swarm)', async () => {
    const events = async (...filters: string[]) => (await n1.dockerOk(['events', '--since', String(t0), '--until', String(Math.ceil(Date.now() / 1000)),
      ...filters.flatMap((f) => ['--filter', f]), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{index .Actor.Attributes "replicas.new"}}'])).trim().split('\n');
    const swarm = await events('scope=swarm');
    assert.ok(swarm.includes('service create web '), swarm.join('\n'));
    assert.ok(swarm.includes('service update web 5'), swarm.join('\n'));
    assert.equal(swarm.filter((l) => l.startsWith('node create ')).length, 2, swarm.join('\n')); // the workers
    const web = await events('service=web');
    assert.ok(web.length >= 2 && web.every((l) => l.startsWith('service ')), web.join('\n'));
    // a worker is no manager: it tells none of them
    const onWorker = (await n2.dockerOk(['events', '--since', String(t0), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'scope=swarm'])).trim();
    assert.equal(onWorker, '');
  });

  test('service update --env-add waits while every task is replaced by one that has the variable', async () => {
    const r = await n1.docker(['service', 'update', '--env-add', 'FOO=bar', 'web'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /converged/);
    await waitFor(async () => {
      const rows = await tasks('web', ['--filter', 'desired-state=running']);
      if (rows.length !== 5 || !rows.every((r) => r.current.startsWith('Running'))) return false;
      for (const n of [n1, n2, n3]) {
        for (const name of await n.serviceContainers('web')) {
          if (!(await n.dockerOk(['inspect', '--format', '{{json .Config.Env}}', name])).includes('FOO=bar')) return false;
        }
      }
      return (await spread('web')).reduce((a, b) => a + b, 0) === 5;
    }, 120_000, 'every web task replaced');
    const shut = (await tasks('web')).filter((r) => r.desired === 'Shutdown');
    assert.ok(shut.length >= 5, `the replaced tasks are kept as history: ${shut.length}`);
  });

  test('service rollback brings the previous spec back: the tasks lose the variable again', async () => {
    await n1.dockerOk(['service', 'rollback', '-d', 'web']);
    await waitFor(async () => {
      const rows = await tasks('web', ['--filter', 'desired-state=running']);
      if (rows.length !== 5 || !rows.every((r) => r.current.startsWith('Running'))) return false;
      for (const n of [n1, n2, n3]) {
        for (const name of await n.serviceContainers('web')) {
          if ((await n.dockerOk(['inspect', '--format', '{{json .Config.Env}}', name])).includes('FOO=bar')) return false;
        }
      }
      return (await spread('web')).reduce((a, b) => a + b, 0) === 5;
    }, 120_000, 'every web task rolled back');
    const spec = JSON.parse(await n1.dockerOk(['service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec}}', 'web'])) as { Env?: string[] };
    assert.ok(!spec.Env?.includes('FOO=bar'), JSON.stringify(spec));
  });

  /** The service's tasks as the API has them (CreatedAt, spec version fields the CLI does not print). */
  const taskObjects = async (service: string) => {
    const ids = (await n1.dockerOk(['service', 'ps', service, '--no-trunc', '-q'])).trim().split('\n').filter(Boolean);
    return JSON.parse(await n1.dockerOk(['inspect', '--type', 'task', ...ids])) as { ID: string; CreatedAt: string; DesiredState: string; Status: { State: string }; Spec: { ContainerSpec: { Env?: string[]; Args?: string[] } } }[];
  };
  const updateState = async (service: string) => (await n1.dockerOk(['service', 'inspect', '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}|{{.UpdateStatus.Message}}{{end}}', service])).trim();
  const runningTotal = async (service: string) => (await spread(service)).reduce((a, b) => a + b, 0);

  test('service update --update-parallelism 2 --update-delay 1s replaces the tasks two at a time, a second apart', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'roll', '--replicas', '4', 'busybox', 'sleep', '3600']);
    await waitFor(async () => (await replicas('roll')) === '4/4', 90_000, 'roll 4/4');
    const r = await n1.docker(['service', 'update', '--env-add', 'V=2', '--update-parallelism', '2', '--update-delay', '1s', 'roll'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /converged/);
    assert.match(await updateState('roll'), /^completed\|update completed$/);
    const created = (await taskObjects('roll')).filter((t) => t.Spec.ContainerSpec.Env?.includes('V=2')).map((t) => Date.parse(t.CreatedAt)).sort((a, b) => a - b);
    assert.equal(created.length, 4, `four new tasks: ${created.length}`);
    // batch 1 = the first two; the third waits for them to run plus the 1 s delay
    assert.ok(created[1]! - created[0]! < 1000, `the first two together: ${created.map((c) => c - created[0]!)}`);
    assert.ok(created[2]! - created[1]! >= 1000, `the second batch a delay later: ${created.map((c) => c - created[0]!)}`);
    // the old containers go after their stop grace (busybox sleep ignores SIGTERM), after the CLI says converged, as with dockerd
    await waitFor(async () => (await runningTotal('roll')) === 4, 60_000, 'roll: the old containers gone');
  });

  test('--update-failure-action rollback: a spec whose tasks exit 1 is rolled back automatically (rollback_completed)', async () => {
    await n1.dockerOk(['service', 'update', '-d', '--update-failure-action', 'rollback', '--update-monitor', '2s', '--args', 'false', 'roll'], { timeoutMs: 60_000 });
    await waitFor(async () => (await updateState('roll')).startsWith('rollback_completed'), 120_000, 'roll rolled back');
    assert.match(await updateState('roll'), /^rollback_completed\|rollback completed$/);
    const spec = JSON.parse(await n1.dockerOk(['service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec}}', 'roll'])) as { Args?: string[] };
    assert.deepEqual(spec.Args, ['sleep', '3600']);
    await waitFor(async () => (await runningTotal('roll')) === 4, 60_000, 'roll back to 4 running');
    // a failed task is marked desired shutdown at once (swarmkit), so every task still meant to run is on the old spec
    const live = (await taskObjects('roll')).filter((t) => t.DesiredState === 'running');
    assert.ok(live.every((t) => t.Spec.ContainerSpec.Args?.[0] === 'sleep'), JSON.stringify(live.map((t) => t.Spec.ContainerSpec.Args)));
    assert.ok((await taskObjects('roll')).some((t) => t.Spec.ContainerSpec.Args?.[0] === 'false' && t.Status.State === 'failed'), 'the failed task is in the history');
  });

  test('--update-order start-first never lets the running tasks drop below the replica count', async () => {
    await n1.dockerOk(['service', 'update', '-d', '--update-order', 'start-first', '--update-failure-action', 'pause', '--env-add', 'V=3', 'roll'], { timeoutMs: 60_000 });
    let lowest = Infinity;
    let highest = 0;
    await waitFor(async () => {
      lowest = Math.min(lowest, await runningTotal('roll'));
      // start-first keeps the old task desired running until its replacement runs: five for a moment (stop-first never has more than four)
      highest = Math.max(highest, (await tasks('roll', ['--filter', 'desired-state=running'])).length);
      return (await updateState('roll')).startsWith('completed');
    }, 180_000, 'start-first update completed');
    assert.ok(lowest >= 4, `running containers never below 4: lowest ${lowest}`);
    assert.ok(highest >= 5, `a new task was started beside an old one: highest desired-running ${highest}`);
    await n1.dockerOk(['service', 'rm', 'roll']);
  });

  test('--constraint node.role==manager puts every task on the manager', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'mgr', '--replicas', '2', '--constraint', 'node.role==manager', 'busybox', 'sleep', '3600']);
    await waitFor(async () => (await replicas('mgr')) === '2/2', 60_000, 'mgr 2/2');
    assert.deepEqual(await spread('mgr'), [2, 0, 0]);
  });

  test('an impossible constraint leaves the task pending with the scheduler\'s reason', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'nowhere', '--constraint', 'node.labels.zone==mars', 'busybox', 'sleep', '3600']);
    try {
      // the CLI quotes the error
      await waitFor(async () => (await tasks('nowhere'))[0]?.err === '"no suitable node (scheduling constraints not satisfied on 3 nodes)"', 30_000, 'the reason');
      const [t] = await tasks('nowhere');
      assert.match(t!.current, /^Pending /);
      assert.equal(await replicas('nowhere'), '0/1');
    } finally {
      await n1.dockerOk(['service', 'rm', 'nowhere']);
    }
  });

  test('a task that exits non-zero is replaced in its slot until its restart attempts are spent', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'crash', '--restart-delay', '1s', '--restart-max-attempts', '2', 'busybox', 'sh', '-c', 'exit 3']);
    try {
      await waitFor(async () => (await tasks('crash')).filter((r) => r.current.startsWith('Failed')).length === 3, 60_000, 'three failed tasks');
      await new Promise((r) => setTimeout(r, 4000));
      const rows = await tasks('crash');
      assert.equal(rows.length, 3, 'no fourth attempt');
      for (const r of rows) assert.equal(r.err, '"task: non-zero exit (3)"');
      const names = (await n1.dockerOk(['service', 'ps', 'crash', '--format', '{{.Name}}'])).trim().split('\n').map((l) => l.trim().replace(/^\\_ /, ''));
      assert.deepEqual([...new Set(names)], ['crash.1'], 'every attempt in slot 1');
    } finally {
      await n1.dockerOk(['service', 'rm', 'crash']);
    }
  });

  test('--mode global runs one task on each node', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--mode', 'global', '--name', 'agent', 'busybox', 'sleep', '3600']);
    await waitFor(async () => (await replicas('agent')) === '3/3', 60_000, 'agent 3/3');
    assert.deepEqual(await spread('agent'), [1, 1, 1]);
  });

  test('node update --availability drain moves the tasks off the node', async () => {
    await n1.dockerOk(['node', 'update', '--availability', 'drain', ids.get(n3)!]);
    await waitFor(async () => (await n3.serviceContainers('web')).length === 0 && (await n3.serviceContainers('agent')).length === 0, 60_000, 'n3 drained');
    await waitFor(async () => (await replicas('web')) === '5/5', 60_000, 'web 5/5 again');
    for (const r of (await tasks('web', ['--filter', 'desired-state=running']))) assert.notEqual(await nodeOf(r.id), ids.get(n3));
    assert.equal(await replicas('agent'), '2/2');
    await n1.dockerOk(['node', 'update', '--availability', 'active', ids.get(n3)!]);
    await waitFor(async () => (await replicas('agent')) === '3/3', 60_000, 'agent back on n3');
  });

  test('kill -9 of a worker\'s berthd: its tasks run elsewhere within 30 s', async () => {
    const before = await n2.serviceContainers('web');
    assert.ok(before.length >= 1, 'n2 runs web tasks');
    n2.kill9();
    const t0 = Date.now();
    await waitFor(async () => {
      const rows = await tasks('web', ['--filter', 'desired-state=running']);
      if (rows.length !== 5 || !rows.every((r) => r.current.startsWith('Running'))) return false;
      const nodes = await Promise.all(rows.map((r) => nodeOf(r.id)));
      return !nodes.includes(ids.get(n2)!);
    }, 45_000, 'web running on n1 and n3 only');
    assert.ok(Date.now() - t0 < 30_000, `rescheduled after ${Date.now() - t0} ms`);
    assert.equal((await n1.serviceContainers('web')).length + (await n3.serviceContainers('web')).length, 5);
    // back: its agent stops the containers of the tasks that were moved away
    await n2.restart();
    await waitFor(async () => (await n2.serviceContainers('web')).length === 0, 60_000, 'n2 stopped its old web containers');
  });

  test('service rm removes every container of the services on every node', async () => {
    for (const s of ['web', 'mgr', 'agent']) await n1.dockerOk(['service', 'rm', s]);
    assert.equal((await n1.dockerOk(['service', 'ls', '-q'])).trim(), '');
    await waitFor(async () => {
      for (const n of [n1, n2, n3]) {
        if ((await n.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.swarm.task'])).trim()) return false;
      }
      return true;
    }, 60_000, 'no task container anywhere');
  });
});
