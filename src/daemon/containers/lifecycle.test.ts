/**
 * The container state machine without root: the real container service and
 * runner over the fake runtime (fake-daemon.ts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Conflict } from '../../errdefs/index.js';
import { actions, cleanupFakeDaemons, fakeDaemon as daemon, until } from './fake-daemon.js';

after(cleanupFakeDaemons);

test('a container that exits on its own: exited with its code, die event, wait answers', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  assert.equal(d.rec(id).state.Status, 'running');
  assert.equal(d.rec(id).state.Pid, d.fake.process(id).pid);
  const waited = d.service.wait(id, 'next-exit');
  d.fake.process(id).write('hello\n');
  d.fake.process(id).exit(3);
  assert.deepEqual(await waited, { StatusCode: 3, Error: null });
  const s = d.rec(id).state;
  assert.deepEqual([s.Status, s.Running, s.ExitCode], ['exited', false, 3]);
  assert.deepEqual(actions(d.events, id), ['create', 'start', 'die']);
  assert.deepEqual(await d.fake.list(), [], 'the runtime task is deleted after the exit');
});

test('stop: the stop signal first; a PID 1 that ignores it is killed after the timeout', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  const t0 = Date.now();
  await d.service.stop(id, { timeout: 1 });
  assert.ok(Date.now() - t0 >= 1000, 'waited the timeout');
  assert.deepEqual(d.fake.process(id).signals, [15, 9]);
  assert.equal(d.rec(id).state.ExitCode, 137);
  assert.deepEqual(actions(d.events, id), ['create', 'start', 'die', 'stop']);
});

test('stop: a process that handles the stop signal exits with its own code, no SIGKILL', async () => {
  const d = await daemon();
  const id = await d.create({ Cmd: ['trap', '15', '0'], StopSignal: 'SIGTERM' });
  await d.service.start(id);
  await d.service.stop(id, { timeout: 5 });
  assert.deepEqual(d.fake.process(id).signals, [15]);
  assert.equal(d.rec(id).state.ExitCode, 0);
});

test('stop racing the container\'s own exit: no error, the exit code is the process\'s', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  const p = d.fake.process(id);
  const stopping = d.service.stop(id, { timeout: 5 });
  p.exit(5);
  await stopping;
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).state.ExitCode], ['exited', 5]);
});

test('kill with a signal the init ignores leaves it running; a plain kill stops it', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  await d.service.kill(id, 'SIGUSR1');
  assert.equal(d.rec(id).state.Running, true);
  await d.service.kill(id);
  assert.deepEqual([d.rec(id).state.Running, d.rec(id).state.ExitCode], [false, 137]);
  await assert.rejects(d.service.kill(id), Conflict, 'a stopped container cannot be killed');
});

test('restart=on-failure:2: restarted twice with backoff, then left exited', async () => {
  const d = await daemon();
  const id = await d.create({ Cmd: ['false'], HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } } });
  const t0 = Date.now();
  await d.service.start(id);
  await until('the third exit', () => actions(d.events, id).filter((a) => a === 'die').length === 3);
  await new Promise((r) => setTimeout(r, 300)); // longer than the next backoff would be: no third restart
  assert.equal(d.rec(id).restartCount, 2);
  assert.equal(d.rec(id).state.Restarting, false);
  assert.ok(Date.now() - t0 >= 300, 'backoff of 100 ms, then 200 ms');
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).state.ExitCode], ['exited', 1]);
  assert.deepEqual(actions(d.events, id).filter((a) => a === 'start' || a === 'die'), ['start', 'die', 'start', 'die', 'start', 'die']);
  assert.equal(d.fake.runs(id).length, 3);
});

test('restart=always: a crash comes back; docker stop during the backoff cancels the restart', async () => {
  const d = await daemon();
  const id = await d.create({ HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } });
  await d.service.start(id);
  const first = d.fake.process(id).pid;
  d.fake.process(id).exit(2);
  await until('the restart', () => d.rec(id).state.Running && !d.rec(id).state.Restarting && d.rec(id).state.Pid !== first);
  assert.equal(d.rec(id).restartCount, 1);
  d.fake.process(id).exit(2);
  await until('restarting', () => d.rec(id).state.Restarting);
  await d.service.stop(id);
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).state.Restarting], ['exited', false]);
  await new Promise((r) => setTimeout(r, 400)); // past the 200 ms backoff
  assert.equal(d.rec(id).state.Running, false, 'no restart after stop');
  assert.deepEqual(await d.fake.list(), []);
});

test('restart=always: docker kill is a manual stop, no restart', async () => {
  const d = await daemon();
  const id = await d.create({ HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } });
  await d.service.start(id);
  await d.service.kill(id);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).restartCount], ['exited', 0]);
});

test('a start the runtime refuses: exit code 127 and the error recorded, nothing left, a later start works', async () => {
  const d = await daemon();
  const id = await d.create();
  d.fake.failNext('create', 'OCI runtime create failed: exec: "sleep": executable file not found in $PATH');
  await assert.rejects(d.service.start(id), /executable file not found/);
  const s = d.rec(id).state;
  assert.deepEqual([s.Running, s.ExitCode], [false, 127]);
  assert.match(s.Error, /executable file not found/);
  assert.deepEqual(await d.fake.list(), []);
  await d.service.start(id);
  assert.equal(d.rec(id).state.Running, true);
  await d.service.kill(id);
});

test('rm -f while a start is under way: the start finishes, then the container is killed and removed', async () => {
  const d = await daemon();
  const id = await d.create();
  const starting = d.service.start(id);
  const removing = d.service.remove(id, { force: true });
  await Promise.all([starting, removing]);
  assert.equal(d.store.find(id), undefined);
  assert.deepEqual(await d.fake.list(), []);
  assert.deepEqual(actions(d.events, id), ['create', 'start', 'die', 'destroy']);
});

test('rm without -f refuses a running container', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  await assert.rejects(d.service.remove(id), Conflict);
  assert.equal(d.rec(id).state.Running, true);
  await d.service.remove(id, { force: true });
});

test('the container exits while an exec runs: the exec ends with it, the exit is recorded', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  const task = d.runner.runningTask(d.rec(id));
  const ex = await task.exec({ execId: 'e1', process: { user: { uid: 0, gid: 0 }, args: ['sleep', '1000'], env: [], cwd: '/' }, terminal: false, stdin: false });
  await ex.start();
  const exited = d.service.wait(id, 'next-exit');
  d.fake.process(id).exit(0);
  assert.equal((await ex.wait()).exitCode, 137);
  assert.equal((await exited).StatusCode, 0);
  await assert.rejects(task.exec({ execId: 'e2', process: { user: { uid: 0, gid: 0 }, args: ['true'], env: [], cwd: '/' }, terminal: false, stdin: false }));
});

test('pause and unpause follow the task; a paused container cannot be paused again', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  await d.service.pause(id);
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).state.Paused], ['paused', true]);
  await assert.rejects(d.service.pause(id), Conflict);
  await d.service.unpause(id);
  assert.equal(d.rec(id).state.Status, 'running');
  await d.service.stop(id, { timeout: 0 });
  assert.equal(d.rec(id).state.ExitCode, 137);
});

test('daemon restart: a running container is reattached, one that exited meanwhile gets its real exit code', async () => {
  const d = await daemon();
  const alive = await d.create();
  const died = await d.create();
  await d.service.start(alive);
  await d.service.start(died);
  const d3 = await d.restart(() => d.fake.process(died).exit(42));
  assert.deepEqual([d3.rec(alive).state.Status, d3.rec(alive).state.Pid], ['running', d.fake.process(alive).pid]);
  assert.deepEqual([d3.rec(died).state.Status, d3.rec(died).state.ExitCode], ['exited', 42]);
  await d3.service.stop(alive, { timeout: 0 });
  assert.equal(d3.rec(alive).state.ExitCode, 137);
  assert.deepEqual(await d3.fake.list(), []);
});

test('two starts at once: one starts the container, the other is told it already runs', async () => {
  const d = await daemon();
  const id = await d.create();
  const results = await Promise.allSettled([d.service.start(id), d.service.start(id)]);
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.equal((failed.reason as { code?: string }).code, 'container.already_started');
  assert.equal(d.fake.runs(id).length, 1, 'one process');
  await d.service.kill(id);
});

test('restart: the old process is stopped, a new one runs; restart policies do not count it', async () => {
  const d = await daemon();
  const id = await d.create({ Cmd: ['trap', '15', '0'] });
  await d.service.start(id);
  const first = d.fake.process(id);
  await d.service.restart(id, { timeout: 5 });
  const second = d.fake.process(id);
  assert.notEqual(second, first);
  assert.deepEqual([first.state, first.exitStatus?.exitCode, first.signals], ['stopped', 0, [15]]);
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).state.Pid, d.rec(id).restartCount], ['running', second.pid, 0]);
  assert.deepEqual(actions(d.events, id), ['create', 'start', 'die', 'start', 'restart']);
  await d.service.kill(id);
});

test('an OOM kill: the event, then an exit recorded as OOMKilled with 137', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  const waited = d.service.wait(id, 'next-exit');
  d.fake.oom(id);
  assert.equal((await waited).StatusCode, 137);
  assert.deepEqual([d.rec(id).state.OOMKilled, d.rec(id).state.ExitCode], [true, 137]);
  assert.deepEqual(actions(d.events, id), ['create', 'start', 'oom', 'die']);
});

test('--rm: the container is removed after its exit; wait for removal gets the exit code', async () => {
  const d = await daemon();
  const id = await d.create({ HostConfig: { AutoRemove: true } });
  await d.service.start(id);
  const removed = d.service.wait(id, 'removed');
  d.fake.process(id).exit(7);
  assert.deepEqual(await removed, { StatusCode: 7, Error: null });
  assert.equal(d.store.find(id), undefined);
  assert.deepEqual(await d.fake.list(), []);
});

test('docker kill of a paused container: thawed, then killed', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  await d.service.pause(id);
  await d.service.kill(id);
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).state.Paused, d.rec(id).state.ExitCode], ['exited', false, 137]);
});

test('docker update of a running container reaches the task', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  await d.service.update(id, { Memory: 64 << 20 });
  assert.equal(d.fake.updates(id).at(-1)?.memory?.limit, 64 << 20);
  assert.equal(d.rec(id).hostConfig.Memory, 64 << 20);
  await d.service.kill(id);
});

test('rm -f while the runtime is creating the task: the removal waits, then kills and removes; nothing left', async () => {
  const d = await daemon();
  const id = await d.create();
  const held = d.fake.hold('create');
  const starting = d.service.start(id);
  await held.reached;
  let removed = false;
  const removing = d.service.remove(id, { force: true }).then(() => (removed = true));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(removed, false, 'the removal waits for the start under the container lock');
  assert.ok(d.store.find(id));
  held.release();
  await Promise.all([starting, removing]);
  assert.deepEqual(d.fake.process(id).signals, [9]);
  assert.equal(d.store.find(id), undefined);
  assert.deepEqual(await d.fake.list(), []);
  assert.deepEqual(actions(d.events, id), ['create', 'start', 'die', 'destroy']);
});

test('stop while the task is starting: it waits, then stops what the start started; no restart', async () => {
  const d = await daemon();
  const id = await d.create({ HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } });
  const held = d.fake.hold('start');
  const starting = d.service.start(id);
  await held.reached;
  const stopping = d.service.stop(id, { timeout: 0 });
  held.release();
  await Promise.all([starting, stopping]);
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).state.ExitCode], ['exited', 137]);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(d.fake.runs(id).length, 1, 'a stopped container is not restarted');
});

test('a process that exits at once: the start succeeds and the exit is recorded after it', async () => {
  const d = await daemon();
  const id = await d.create({ Cmd: ['true'] });
  await d.service.start(id);
  const r = await d.service.wait(id, 'not-running');
  assert.equal(r.StatusCode, 0);
  await until('the exit', () => actions(d.events, id).includes('die'));
  assert.deepEqual(actions(d.events, id), ['create', 'start', 'die']);
  assert.deepEqual([d.rec(id).state.Status, d.rec(id).state.ExitCode], ['exited', 0]);
});

test('daemon restart: a container whose shim died meanwhile is recorded exited, and can start again', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  const d2 = await d.restart(() => d.fake.crashShim(id));
  const s = d2.rec(id).state;
  assert.deepEqual([s.Status, s.Running, s.ExitCode], ['exited', false, 137]);
  assert.deepEqual(await d2.fake.list(), []);
  await d2.service.start(id);
  assert.equal(d2.rec(id).state.Running, true);
  await d2.service.kill(id);
});

test('the shim dies under a running daemon: the exit is recorded as 255 (contact lost)', async () => {
  const d = await daemon();
  const id = await d.create();
  await d.service.start(id);
  const waited = d.service.wait(id, 'next-exit');
  d.fake.crashShim(id);
  assert.equal((await waited).StatusCode, 255);
  assert.equal(d.rec(id).state.Running, false);
});

test('daemon restart with a container in every state: created, exited, paused and in a restart backoff each come back as they were (the backoff as exited)', async () => {
  const d = await daemon();
  const created = await d.create();
  const exited = await d.create();
  const paused = await d.create();
  const backoff = await d.create({ HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } });
  await d.service.start(exited);
  d.fake.process(exited).exit(3);
  await until('the exit', () => d.rec(exited).state.Status === 'exited');
  await d.service.start(paused);
  await d.service.pause(paused);
  await d.service.start(backoff);
  const first = d.fake.process(backoff).pid;
  d.fake.process(backoff).exit(1);
  await until('the first restart', () => d.rec(backoff).state.Running && d.rec(backoff).state.Pid !== first);
  d.fake.process(backoff).exit(1);
  await until('the backoff', () => d.rec(backoff).state.Restarting);
  const pausedPid = d.fake.process(paused).pid;

  const d2 = await d.restart();
  const state = (id: string) => {
    const s = d2.rec(id).state;
    return [s.Status, s.Running, s.Paused, s.Restarting, s.ExitCode];
  };
  assert.deepEqual(state(created), ['created', false, false, false, 0]);
  assert.deepEqual(state(exited), ['exited', false, false, false, 3]);
  assert.deepEqual(state(paused), ['paused', true, true, false, 0]);
  assert.equal(d2.rec(paused).state.Pid, pausedPid, 'the paused process is reattached, not restarted');
  assert.deepEqual(state(backoff).slice(0, 4), ['exited', false, false, false]);
  assert.deepEqual(await d2.fake.list(), [paused]);
  await d2.service.unpause(paused);
  await d2.service.kill(paused);
  await d2.service.start(created);
  assert.equal(d2.rec(created).state.Running, true, 'a created container still starts');
  await d2.service.kill(created);
});
