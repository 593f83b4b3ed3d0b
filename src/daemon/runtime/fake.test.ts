import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeSpec, SpecProcess } from '../../oci/runtime-spec.js';
import { Capture, newTaskId, runtimeConformance, type Program } from './conformance.js';
import { FakeRuntime, notFound, type FakeProgram } from './fake.js';
import { RuntimeStartError } from './runtime.js';

/** The conformance programs, written against the fake's process control. */
const programs: Record<string, FakeProgram> = {
  'exit-with': (p) => {
    const [, code, out, err] = p.args;
    if (out) p.write(out);
    if (err) p.writeErr(err);
    p.exit(Number(code));
  },
  trap: (p) => {
    const [, signal, code] = p.args;
    p.onSignal(Number(signal), () => p.exit(Number(code)));
    p.write('ready\n');
  },
  '/no/such/binary': notFound,
  'tty-size': (p) => {
    p.stdin.once('data', () => {
      p.write(`${p.size?.height ?? 24} ${p.size?.width ?? 80}\r\n`);
      p.exit(0);
    });
  },
};

function argv(p: Program): string[] {
  switch (p.kind) {
    case 'exit': return ['exit-with', String(p.code), p.stdout ?? '', p.stderr ?? ''];
    case 'cat': return ['cat'];
    case 'sleep': return ['sleep', '1000'];
    case 'trap': return ['trap', String(p.signal), String(p.code)];
    case 'missing': return ['/no/such/binary'];
    case 'tty-size': return ['tty-size'];
  }
}

function processOf(p: Program): SpecProcess {
  return { user: { uid: 0, gid: 0 }, args: argv(p), env: [], cwd: '/' };
}

function specOf(args: string[]): RuntimeSpec {
  return { ociVersion: '1.0.2', process: { user: { uid: 0, gid: 0 }, args, env: [], cwd: '/' }, root: { path: '/nonexistent' }, mounts: [], linux: { namespaces: [] } };
}

runtimeConformance('fake runtime', async () => {
  let runtime = new FakeRuntime({ programs });
  return {
    runtime,
    spec: (p) => specOf(argv(p)),
    process: processOf,
    async reopen() {
      await runtime.close();
      runtime = runtime.reopen();
      return runtime;
    },
    async cleanup() {
      assert.deepEqual(await runtime.list(), [], 'the case deleted every task it made');
    },
  };
});

// ---------------------------------------------------------------- the test controls

const create = (fake: FakeRuntime, args: string[], o: { stdin?: boolean; terminal?: boolean } = {}) =>
  fake.create({ id: newTaskId(), spec: specOf(args), rootfs: [], terminal: !!o.terminal, stdin: !!o.stdin });

test('fake runtime: a test writes a process\'s output and decides its exit', async () => {
  const fake = new FakeRuntime();
  const task = await create(fake, ['my-server', '--port', '80']);
  const out = new Capture(task.io.stdout);
  const err = new Capture(task.io.stderr);
  await task.start();
  const p = fake.process(task.id);
  assert.deepEqual(p.args, ['my-server', '--port', '80']);
  assert.equal(fake.spec(task.id).process.args[0], 'my-server');
  p.write('out');
  p.writeErr('err');
  const early = await Promise.race([task.wait(), new Promise((r) => setTimeout(() => r('running'), 50))]);
  assert.equal(early, 'running', 'an unknown program runs until the test ends it');
  p.exit(3);
  p.exit(4); // a process exits once
  assert.equal((await task.wait()).exitCode, 3);
  assert.equal(await out.ended, 'out');
  assert.equal(await err.ended, 'err');
  await task.delete();
});

test('fake runtime: a test sees what reached stdin, the signals sent, and the pty size', async () => {
  const fake = new FakeRuntime();
  const task = await create(fake, ['app'], { stdin: true, terminal: true });
  assert.equal(task.io.stderr, undefined, 'a terminal merges stderr into stdout');
  const out = new Capture(task.io.stdout);
  await task.start();
  const p = fake.process(task.id);
  task.io.stdin!.write('typed');
  task.io.stdin!.end();
  assert.equal(p.stdinClosed, false, 'ending the daemon\'s writer is not EOF');
  await task.closeStdin();
  assert.equal(await p.stdinText(), 'typed');
  await task.resize(120, 40);
  assert.deepEqual(p.size, { width: 120, height: 40 });
  p.writeErr('to the pty');
  await task.kill(15);
  await task.kill(2);
  assert.deepEqual(p.signals, [15, 2]);
  assert.equal(await task.status(), 'running', 'PID 1 without handlers ignores both');
  await task.kill(9);
  assert.equal((await task.wait()).exitCode, 137);
  assert.equal(await out.ended, 'to the pty');
  await task.delete();
});

test('fake runtime: signals sent to a paused task arrive at resume', async () => {
  const fake = new FakeRuntime();
  const task = await create(fake, ['sleep', '1000']);
  await task.start();
  await task.pause();
  await task.kill(9);
  assert.equal(await task.status(), 'paused');
  assert.deepEqual(fake.process(task.id).signals, []);
  await task.resume();
  assert.equal((await task.wait()).exitCode, 137);
  await task.delete();
});

test('fake runtime: injected failures fail the next create, start or exec only', async () => {
  const fake = new FakeRuntime();
  fake.failNext('create', 'no space left on device');
  await assert.rejects(create(fake, ['true']), (e: Error) => e instanceof RuntimeStartError && /no space left/.test(e.message));
  assert.deepEqual(await fake.list(), []);
  fake.failNext('start', 'permission denied');
  const task = await create(fake, ['sleep', '1000']);
  await assert.rejects(task.start(), RuntimeStartError);
  assert.equal(await task.status(), 'created');
  await task.start();
  fake.failNext('exec', 'boom');
  await assert.rejects(task.exec({ execId: 'e1', process: processOf({ kind: 'cat' }), terminal: false, stdin: false }), RuntimeStartError);
  const ok = await task.exec({ execId: 'e1', process: { ...processOf({ kind: 'cat' }), args: ['true'] }, terminal: false, stdin: false });
  await ok.start();
  assert.equal((await ok.wait()).exitCode, 0);
  await task.kill(9);
  await task.wait();
  await task.delete();
});

test('fake runtime: a missing command fails create with the message the daemon maps to 127', async () => {
  const fake = new FakeRuntime({ programs: { nope: notFound } });
  await assert.rejects(create(fake, ['/bin/nope']), /exec: "\/bin\/nope": stat \/bin\/nope: no such file or directory/);
  await assert.rejects(create(fake, ['nope']), /exec: "nope": executable file not found in \$PATH/);
  assert.deepEqual(await fake.list(), []);
});

test('fake runtime: a crashed shim: waits fail, restore answers gone with the killed exit code', async () => {
  const fake = new FakeRuntime();
  const task = await create(fake, ['sleep', '1000']);
  await task.start();
  const waiting = task.wait();
  fake.crashShim(task.id);
  await assert.rejects(waiting, /shim .* is gone/);
  const after = fake.reopen();
  const r = await after.restore(task.id);
  assert.equal(r.state, 'gone');
  assert.equal(r.state === 'gone' && r.exit.exitCode, 137);
  assert.deepEqual(await after.list(), []);
});

test('fake runtime: output written while no daemon reads reaches the restored reader', async () => {
  const fake = new FakeRuntime();
  const task = await create(fake, ['ticker']);
  await task.start();
  task.io.stdout.destroy();
  fake.process(task.id).write('while away\n');
  const r = await fake.reopen().restore(task.id);
  assert.equal(r.state, 'alive');
  const restored = (r as { task: typeof task }).task;
  const out = new Capture(restored.io.stdout);
  fake.process(task.id).exit(0);
  assert.equal(await out.ended, 'while away\n');
  await restored.delete();
});

test('fake runtime: oom reports the event, then the init dies with 137', async () => {
  const ooms: string[] = [];
  const fake = new FakeRuntime({ events: { onOom: (id) => ooms.push(id) } });
  const task = await create(fake, ['hog']);
  await task.start();
  fake.oom(task.id);
  assert.deepEqual(ooms, [task.id]);
  assert.equal((await task.wait()).exitCode, 137);
  await task.delete();
});

test('fake runtime: update records the resources of a running task', async () => {
  const fake = new FakeRuntime();
  const task = await create(fake, ['app']);
  await assert.rejects(task.update({ pids: { limit: 10 } }), /not running/);
  await task.start();
  await task.update({ memory: { limit: 1 << 20 } });
  assert.deepEqual(fake.updates(task.id), [{ memory: { limit: 1 << 20 } }]);
  await task.kill(9);
  await task.wait();
  await task.delete();
});

test('fake runtime: hold stops the next operation where it begins until the test releases it', async () => {
  const fake = new FakeRuntime();
  const held = fake.hold('create');
  let created = false;
  const creating = create(fake, ['app']).then((t) => ((created = true), t));
  await held.reached;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(created, false);
  held.release();
  const task = await creating;
  assert.equal(await task.status(), 'created');
  await task.delete();
});
