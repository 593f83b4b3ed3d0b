/**
 * The runtime conformance suite: what the container service may rely on from
 * any `Runtime` (runtime.ts), checked the same way on every implementation —
 * the shim runtime over real runc (test/e2e/runtime-conformance.test.ts) and
 * the in-memory fake (fake.test.ts). A case that passes on one and fails on
 * the other is a bug in the fake or a hole in the contract.
 *
 * Programs are named by what they do (`Program`), and each harness says how
 * its runtime runs them: busybox argv for the shim runtime, fake programs
 * for the fake.
 *
 *   runtimeConformance('shim', async () => ({
 *     runtime, spec: (p) => specRunning(p), process: (p) => processRunning(p),
 *     reopen: async () => newRuntimeOverTheSameState(), cleanup,
 *   }));
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuntimeStartError, type ExitStatus, type Task } from './runtime.js';
import { Capture, closeIO, newTaskId, programStarted, sleep, type Program, type RuntimeHarness } from './conformance-support.js';

export { Capture, newTaskId, type Program, type RuntimeHarness } from './conformance-support.js';

const SIGKILL = 9;
const SIGTERM = 15;
const CASE_TIMEOUT_MS = 30_000;

export function runtimeConformance(label: string, make: () => Promise<RuntimeHarness>): void {
  const withRuntime = (name: string, fn: (h: RuntimeHarness) => Promise<void>) =>
    test(`${label}: ${name}`, { timeout: CASE_TIMEOUT_MS }, async () => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await h.cleanup();
      }
    });

  const createTask = (h: RuntimeHarness, program: Program, o: { stdin?: boolean; id?: string } = {}) =>
    h.runtime.create({ id: o.id ?? newTaskId(), spec: h.spec(program), rootfs: [], terminal: false, stdin: !!o.stdin });

  withRuntime('create, start, wait: the exit code and each stream', async (h) => {
    const id = newTaskId();
    const task = await createTask(h, { kind: 'exit', code: 3, stdout: 'out', stderr: 'err' }, { id });
    assert.equal(task.id, id);
    assert.equal(task.io.stdin, undefined, 'no stdin was asked for');
    const out = new Capture(task.io.stdout);
    const err = new Capture(task.io.stderr);
    assert.equal(await task.status(), 'created');
    assert.ok(task.pid > 0, 'a created task has a pid');
    assert.ok((await h.runtime.list()).includes(id));
    const waited = task.wait(); // before start: resolves at the exit
    const before = Date.now();
    await task.start();
    const exit = await waited;
    assert.equal(exit.exitCode, 3);
    assert.ok(exit.exitedAt.getTime() >= before - 1000 && exit.exitedAt.getTime() <= Date.now() + 1000, `exitedAt ${exit.exitedAt.toISOString()}`);
    assert.equal(await out.ended, 'out');
    assert.equal(await err.ended, 'err');
    assert.deepEqual(await task.wait(), exit, 'every wait returns the same status');
    assert.equal(await task.status(), 'stopped');
    await task.delete();
    assert.ok(!(await h.runtime.list()).includes(id), 'deleted tasks leave the list');
  });

  withRuntime('SIGKILL ends the init with 128+9', async (h) => {
    const task = await createTask(h, { kind: 'sleep' });
    await task.start();
    assert.equal(await task.status(), 'running');
    await task.kill(SIGKILL);
    assert.equal((await task.wait()).exitCode, 137);
    assert.equal(await task.status(), 'stopped');
    await task.kill(SIGKILL); // after the exit: nothing to signal, no error
    await task.killAll(SIGKILL);
    await task.delete();
  });

  withRuntime('the init ignores a SIGTERM it does not handle; killAll(SIGKILL) ends it', async (h) => {
    const task = await createTask(h, { kind: 'sleep' });
    await task.start();
    await programStarted(task.pid); // runc's own init code would die of the SIGTERM (exit 2: failed once under load)
    await task.kill(SIGTERM);
    const early = await Promise.race([task.wait(), sleep(300).then(() => 'still running' as const)]);
    assert.equal(early, 'still running');
    assert.equal(await task.status(), 'running');
    await task.killAll(SIGKILL);
    assert.equal((await task.wait()).exitCode, 137);
    await task.delete();
  });

  withRuntime('a signal the init handles runs its handler', async (h) => {
    const task = await createTask(h, { kind: 'trap', signal: SIGTERM, code: 7 });
    const out = new Capture(task.io.stdout);
    await task.start();
    await out.until('ready');
    await task.kill(SIGTERM);
    assert.equal((await task.wait()).exitCode, 7);
    await task.delete();
  });

  withRuntime('stdin reaches the init, and closeStdin delivers EOF', async (h) => {
    const task = await createTask(h, { kind: 'cat' }, { stdin: true });
    assert.ok(task.io.stdin, 'stdin was asked for');
    const out = new Capture(task.io.stdout);
    task.io.stdin.write('before start\n'); // queued until the process reads
    await task.start();
    task.io.stdin.write('after start\n');
    await task.closeStdin();
    assert.equal((await task.wait()).exitCode, 0);
    assert.equal(await out.ended, 'before start\nafter start\n');
    await task.delete();
  });

  withRuntime('exec: stdin in, output out, exit code back; the task keeps running', async (h) => {
    const task = await createTask(h, { kind: 'sleep' });
    await task.start();
    const cat = await task.exec({ execId: 'cat', process: h.process({ kind: 'cat' }), terminal: false, stdin: true });
    assert.ok(cat.io.stdin);
    const catOut = new Capture(cat.io.stdout);
    await cat.start();
    assert.ok(cat.pid > 0 && cat.pid !== task.pid, 'an exec has its own pid');
    const pids = await task.pids();
    assert.ok(pids.includes(task.pid) && pids.includes(cat.pid), `pids ${pids.join(',')} hold the init ${task.pid} and the exec ${cat.pid}`);
    cat.io.stdin.end('hello exec');
    await cat.closeStdin();
    assert.equal((await cat.wait()).exitCode, 0);
    assert.equal(await catOut.ended, 'hello exec');
    await cat.delete();

    const failing = await task.exec({ execId: 'exit5', process: h.process({ kind: 'exit', code: 5, stdout: 'o', stderr: 'e' }), terminal: false, stdin: false });
    assert.equal(failing.io.stdin, undefined);
    const o = new Capture(failing.io.stdout);
    const e = new Capture(failing.io.stderr);
    await failing.start();
    assert.equal((await failing.wait()).exitCode, 5);
    assert.equal(await o.ended, 'o');
    assert.equal(await e.ended, 'e');
    await failing.delete();

    assert.equal(await task.status(), 'running', 'execs ending do not end the task');
    await task.killAll(SIGKILL);
    await task.wait();
    await task.delete();
  });

  withRuntime('an exec is not PID 1: SIGTERM ends it with 128+15', async (h) => {
    const task = await createTask(h, { kind: 'sleep' });
    await task.start();
    const ex = await task.exec({ execId: 'sleeper', process: h.process({ kind: 'sleep' }), terminal: false, stdin: false });
    await ex.start();
    await ex.kill(SIGTERM);
    assert.equal((await ex.wait()).exitCode, 143);
    await ex.delete();
    assert.equal(await task.status(), 'running');
    await task.killAll(SIGKILL);
    await task.wait();
    await task.delete();
  });

  withRuntime('killAll(SIGTERM) ends the execs, which are not PID 1; the init without a handler runs on', async (h) => {
    const task = await createTask(h, { kind: 'sleep' });
    await task.start();
    const ex = await task.exec({ execId: 'sibling', process: h.process({ kind: 'sleep' }), terminal: false, stdin: false });
    await ex.start();
    await task.killAll(SIGTERM);
    assert.equal((await ex.wait()).exitCode, 143);
    await ex.delete();
    assert.equal(await task.status(), 'running');
    await task.killAll(SIGKILL);
    assert.equal((await task.wait()).exitCode, 137);
    await task.delete();
  });

  withRuntime('the init exiting ends its execs', async (h) => {
    const task = await createTask(h, { kind: 'sleep' });
    await task.start();
    const ex = await task.exec({ execId: 'orphan', process: h.process({ kind: 'sleep' }), terminal: false, stdin: false });
    await ex.start();
    await task.kill(SIGKILL);
    assert.equal((await task.wait()).exitCode, 137);
    assert.equal((await ex.wait()).exitCode, 137, 'the kernel kills the rest of the pid namespace');
    await ex.delete();
    await task.delete();
  });

  withRuntime('an exec of a missing executable fails to start; the task runs on', async (h) => {
    const task = await createTask(h, { kind: 'sleep' });
    await task.start();
    const ex = await task.exec({ execId: 'missing', process: h.process({ kind: 'missing' }), terminal: false, stdin: false });
    await assert.rejects(ex.start(), RuntimeStartError);
    await ex.delete();
    assert.equal(await task.status(), 'running');
    await task.killAll(SIGKILL);
    await task.wait();
    await task.delete();
  });

  withRuntime('a missing executable as init: create fails and nothing is left', async (h) => {
    const id = newTaskId();
    await assert.rejects(createTask(h, { kind: 'missing' }, { id }), RuntimeStartError);
    assert.ok(!(await h.runtime.list()).includes(id));
  });

  withRuntime('exec in a stopped task fails', async (h) => {
    const task = await createTask(h, { kind: 'exit', code: 0 });
    await task.start();
    await task.wait();
    await assert.rejects(async () => {
      const ex = await task.exec({ execId: 'late', process: h.process({ kind: 'exit', code: 0 }), terminal: false, stdin: false });
      await ex.start();
    }, RuntimeStartError);
    await task.delete();
  });

  withRuntime('pause and resume: status follows, the process survives', async (h) => {
    const task = await createTask(h, { kind: 'cat' }, { stdin: true });
    const out = new Capture(task.io.stdout);
    await task.start();
    await task.pause();
    assert.equal(await task.status(), 'paused');
    assert.ok((await task.pids()).includes(task.pid));
    await task.resume();
    assert.equal(await task.status(), 'running');
    task.io.stdin!.write('alive\n');
    await out.until('alive');
    await task.closeStdin();
    assert.equal((await task.wait()).exitCode, 0);
    await task.delete();
  });

  withRuntime('delete refuses a running task and leaves it running', async (h) => {
    const id = newTaskId();
    const task = await createTask(h, { kind: 'sleep' }, { id });
    await task.start();
    await assert.rejects(task.delete());
    assert.equal(await task.status(), 'running');
    assert.ok((await h.runtime.list()).includes(id));
    await task.killAll(SIGKILL);
    await task.wait();
    await task.delete();
    assert.ok(!(await h.runtime.list()).includes(id));
  });

  withRuntime('a created task that never started can be deleted', async (h) => {
    const id = newTaskId();
    const task = await createTask(h, { kind: 'sleep' }, { id });
    const out = new Capture(task.io.stdout);
    await task.delete();
    assert.ok(!(await h.runtime.list()).includes(id));
    assert.equal(await out.ended, '', 'its streams end');
  });

  withRuntime('a terminal: one output stream, input through the pty, resize seen by the process', async (h) => {
    const spec = h.spec({ kind: 'tty-size' });
    spec.process = { ...spec.process, terminal: true };
    const task = await h.runtime.create({ id: newTaskId(), spec, rootfs: [], terminal: true, stdin: true });
    assert.equal(task.io.stderr, undefined, 'the pty merges stderr into stdout');
    const out = new Capture(task.io.stdout);
    await task.start();
    await task.resize(100, 40);
    task.io.stdin!.write('go\n');
    assert.equal((await task.wait()).exitCode, 0);
    assert.match(await out.ended, /40 100/);
    await task.delete();
  });

  withRuntime('an exec with a terminal: one output stream, input through its pty, its own size', async (h) => {
    const task = await createTask(h, { kind: 'sleep' });
    await task.start();
    const ex = await task.exec({ execId: 'tty', process: { ...h.process({ kind: 'tty-size' }), terminal: true }, terminal: true, stdin: true });
    assert.equal(ex.io.stderr, undefined);
    const out = new Capture(ex.io.stdout);
    await ex.start();
    await ex.resize(90, 30);
    ex.io.stdin!.write('go\n');
    assert.equal((await ex.wait()).exitCode, 0);
    assert.match(await out.ended, /30 90/);
    await ex.delete();
    await task.killAll(SIGKILL);
    await task.wait();
    await task.delete();
  });

  withRuntime('prepare then discard leaves nothing; prepare then create uses it', async (h) => {
    const rt = h.runtime;
    if (!rt.prepare || !rt.discard) return;
    const dropped = newTaskId();
    rt.prepare(dropped);
    await rt.discard(dropped);
    assert.ok(!(await rt.list()).includes(dropped));
    const id = newTaskId();
    rt.prepare(id);
    const task = await createTask(h, { kind: 'exit', code: 4 }, { id });
    await task.start();
    assert.equal((await task.wait()).exitCode, 4);
    await task.delete();
    assert.ok(!(await rt.list()).includes(id));
  });

  withRuntime('restore: a running task is found alive, with its pid, stdin and output', async (h) => {
    if (!h.reopen) return;
    const id = newTaskId();
    const before = await createTask(h, { kind: 'cat' }, { id, stdin: true });
    const first = new Capture(before.io.stdout);
    await before.start();
    before.io.stdin!.write('one\n');
    await first.until('one');
    closeIO(before.io); // the old daemon's ends go away with it
    const runtime = await h.reopen();
    assert.ok((await runtime.list()).includes(id));
    const r = await runtime.restore(id);
    assert.equal(r.state, 'alive');
    const task = (r as { task: Task }).task;
    assert.equal(task.pid, before.pid);
    assert.equal(await task.status(), 'running');
    const out = new Capture(task.io.stdout);
    task.io.stdin!.write('two\n');
    await task.closeStdin();
    assert.equal((await task.wait()).exitCode, 0);
    assert.equal(await out.ended, 'two\n');
    await task.delete();
    assert.ok(!(await runtime.list()).includes(id));
  });

  withRuntime('restore: a task that exited meanwhile reports its exit code', async (h) => {
    if (!h.reopen) return;
    const id = newTaskId();
    const before = await createTask(h, { kind: 'sleep' }, { id });
    await before.start();
    closeIO(before.io);
    await before.killAll(SIGKILL);
    await before.wait();
    const runtime = await h.reopen();
    const r = await runtime.restore(id);
    let exit: ExitStatus;
    if (r.state === 'alive') {
      assert.equal(await r.task.status(), 'stopped');
      exit = await r.task.wait();
      await r.task.delete();
    } else {
      exit = r.exit;
    }
    assert.equal(exit.exitCode, 137);
    assert.ok(!(await runtime.list()).includes(id));
  });

  withRuntime('restore of an id the runtime never held: gone', async (h) => {
    if (!h.reopen) return;
    const runtime = await h.reopen();
    const r = await runtime.restore(newTaskId());
    assert.equal(r.state, 'gone');
  });
}
