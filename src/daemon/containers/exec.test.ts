/** `docker exec` without root: the real exec service over the fake runtime (fake-daemon.ts). */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { Conflict, InvalidParameter } from '../../errdefs/index.js';
import { actions, cleanupFakeDaemons, fakeDaemon } from './fake-daemon.js';

after(cleanupFakeDaemons);

/** An attached client: what it receives, demultiplexed (stdcopy frames) unless tty. */
function client(tty = false) {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  const streams = () => {
    const all = Buffer.concat(chunks);
    if (tty) return { stdout: all.toString(), stderr: '' };
    const out = { stdout: '', stderr: '' };
    for (let i = 0; i + 8 <= all.length;) {
      const len = all.readUInt32BE(i + 4);
      const text = all.subarray(i + 8, i + 8 + len).toString();
      if (all[i] === 2) out.stderr += text;
      else out.stdout += text;
      i += 8 + len;
    }
    return out;
  };
  return { output, streams };
}

test('exec -i: stdin reaches the process, its EOF ends it, output comes back framed, inspect has the code', async () => {
  const d = await fakeDaemon();
  const id = await d.create();
  await d.service.start(id);
  const { Id } = d.execs.create(id, { Cmd: ['cat'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const c = client();
  await d.execs.start(Id, { output: c.output, stdin: Readable.from([Buffer.from('typed\n')]), tty: false });
  assert.deepEqual(c.streams(), { stdout: 'typed\n', stderr: '' });
  assert.ok(c.output.writableEnded, 'the stream ends once the exit code is recorded');
  const inspect = d.execs.inspect(Id);
  assert.deepEqual([inspect.Running, inspect.ExitCode], [false, 0]);
  assert.deepEqual(actions(d.events, id).filter((a) => a.startsWith('exec_')), ['exec_create: cat', 'exec_start: cat', 'exec_die']);
  await d.service.kill(id);
});

test('exec: stdout and stderr stay apart, and the exit code is the process\'s', async () => {
  const d = await fakeDaemon();
  const id = await d.create();
  await d.service.start(id);
  const { Id } = d.execs.create(id, { Cmd: ['report'], AttachStdout: true, AttachStderr: true });
  const c = client();
  const started = d.execs.start(Id, { output: c.output, tty: false });
  const p = await d.fake.whenProcess(id, Id);
  assert.deepEqual(p.args, ['report']);
  p.write('out');
  p.writeErr('err');
  p.exit(4);
  await started;
  assert.deepEqual(c.streams(), { stdout: 'out', stderr: 'err' });
  assert.equal(d.execs.inspect(Id).ExitCode, 4);
  await d.service.kill(id);
});

test('an exec that cannot start: 126, the runtime\'s reason in the stream; detached, an InvalidParameter', async () => {
  const d = await fakeDaemon();
  const id = await d.create();
  await d.service.start(id);
  d.fake.failNext('start', 'exec: "nope": executable file not found in $PATH');
  const attached = d.execs.create(id, { Cmd: ['nope'], AttachStdout: true });
  const c = client();
  await d.execs.start(attached.Id, { output: c.output, tty: false });
  assert.match(c.streams().stdout, /OCI runtime exec failed: exec: "nope": executable file not found in \$PATH: unknown/);
  assert.equal(d.execs.inspect(attached.Id).ExitCode, 126);
  d.fake.failNext('start', 'exec: "nope": executable file not found in $PATH');
  const detached = d.execs.create(id, { Cmd: ['nope'] });
  await assert.rejects(d.execs.start(detached.Id, undefined), InvalidParameter);
  assert.equal(d.rec(id).state.Running, true, 'the container runs on');
  await d.service.kill(id);
});

test('exec is refused in a stopped or paused container, and runs once', async () => {
  const d = await fakeDaemon();
  const id = await d.create();
  assert.throws(() => d.execs.create(id, { Cmd: ['true'] }), Conflict, 'created, never started');
  await d.service.start(id);
  const { Id } = d.execs.create(id, { Cmd: ['true'] });
  await d.service.pause(id);
  assert.throws(() => d.execs.check(Id), (e: Error) => e instanceof Conflict && (e as Conflict).code === 'container.paused');
  await d.service.unpause(id);
  await d.execs.start(Id, undefined);
  await new Promise((r) => setTimeout(r, 20));
  assert.throws(() => d.execs.check(Id), Conflict, 'an exec runs once');
  await d.service.kill(id);
  assert.throws(() => d.execs.create(id, { Cmd: ['true'] }), Conflict);
});

test('the container stops during an attached exec: the exec dies with 137 and the client gets its EOF', async () => {
  const d = await fakeDaemon();
  const id = await d.create();
  await d.service.start(id);
  const { Id } = d.execs.create(id, { Cmd: ['sleep', '1000'], AttachStdout: true });
  const c = client();
  const started = d.execs.start(Id, { output: c.output, tty: false });
  await d.fake.whenProcess(id, Id);
  await d.service.stop(id, { timeout: 0 });
  await started;
  assert.ok(c.output.writableEnded);
  const die = d.events.subscribe(() => {}).past.find((e) => e.Action === 'exec_die' && e.Actor.Attributes.execID === Id);
  assert.equal(die?.Actor.Attributes.exitCode, '137');
});

test('exec with a tty: raw output, and the console size reaches the pty', async () => {
  const d = await fakeDaemon();
  const id = await d.create();
  await d.service.start(id);
  const { Id } = d.execs.create(id, { Cmd: ['sh'], Tty: true, AttachStdout: true });
  const c = client(true);
  const started = d.execs.start(Id, { output: c.output, tty: true }, [30, 90]);
  const p = await d.fake.whenProcess(id, Id);
  assert.deepEqual(p.size, { width: 90, height: 30 });
  await d.execs.resize(Id, 40, 120);
  assert.deepEqual(p.size, { width: 120, height: 40 });
  p.writeErr('prompt$ ');
  p.exit(0);
  await started;
  assert.equal(c.streams().stdout, 'prompt$ ');
  await d.service.kill(id);
});
