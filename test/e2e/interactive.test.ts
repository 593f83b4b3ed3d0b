/** Terminals, stdin, exec and attach, through the real docker CLI and berth on a pty. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BERTH, DOCKER, TestDaemon } from '../support/daemon.js';
import { runInPty } from '../support/pty.js';

describe('interactive use', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  for (const [name, cli] of [['docker', DOCKER], ['berth', BERTH]] as const) {
    test(`${name} run -it gives a terminal with the client's size and its exit code`, async () => {
      const r = await runInPty([cli, 'run', '-it', '--rm', 'busybox', 'sh'], [
        { waitFor: '/ #', send: 'tty; stty size\r' },
        { waitFor: /\d+ \d+/, send: 'exit 3\r' },
      ], { env: d.env, rows: 40, cols: 100 });
      assert.equal(r.code, 3, r.output);
      assert.match(r.output, /\/dev\/pts\/0/);
      assert.match(r.output, /40 100/);
    });

    test(`${name}: ctrl-c reaches the container through the terminal`, async () => {
      const r = await runInPty([cli, 'run', '-it', '--rm', 'busybox', 'sh', '-c', 'trap "echo got-int; exit 9" INT; echo ready; while true; do sleep 0.1; done'], [
        { waitFor: 'ready', send: '\x03' },
      ], { env: d.env });
      assert.match(r.output, /got-int/);
      assert.equal(r.code, 9);
    });

    test(`${name}: ctrl-p ctrl-q detaches and attach comes back`, async () => {
      const cname = `detach-${name}`;
      const first = await runInPty([cli, 'run', '-it', '--name', cname, 'busybox', 'sh'], [
        { waitFor: '/ #', send: 'echo before-detach\r' },
        { waitFor: 'before-detach\r\n', afterMs: 100, send: '\x10\x11' },
      ], { env: d.env });
      assert.equal(first.code, 0, first.output);
      assert.match((await d.docker(['inspect', '--format', '{{.State.Running}}', cname])).stdout, /true/);
      const again = await runInPty([cli, 'attach', cname], [
        { afterMs: 500, send: 'echo back-again\r' },
        { waitFor: 'back-again\r\n', send: 'exit 5\r' },
      ], { env: d.env });
      assert.match(again.output, /back-again/);
      assert.equal(again.code, 5);
      await d.docker(['rm', '-f', cname]);
    });

    test(`${name} exec: output, exit codes, stdin, env, workdir, user`, async () => {
      const cname = `exec-${name}`;
      await d.docker(['run', '-d', '--name', cname, 'busybox', 'sleep', '300']);
      const run = (args: string[], input?: string) => (name === 'docker' ? d.docker(args, { input }) : d.berth(args, { input }));
      assert.equal((await run(['exec', cname, 'echo', 'hi'])).stdout, 'hi\n');
      assert.equal((await run(['exec', cname, 'sh', '-c', 'exit 5'])).code, 5);
      const missing = await run(['exec', cname, 'nosuchcmd']);
      assert.equal(missing.code, 126, 'dockerd: 126 for any exec that cannot start');
      assert.match(missing.stdout + missing.stderr, /executable file not found/);
      assert.equal((await run(['exec', '-i', cname, 'cat'], 'through-stdin\n')).stdout, 'through-stdin\n');
      const env = await run(['exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', 'nobody', cname, 'sh', '-c', 'echo $FOO $(pwd) $(id -u)']);
      assert.equal(env.stdout, 'bar /tmp 65534\n');
      assert.equal((await run(['exec', '-d', cname, 'sh', '-c', 'echo detached > /tmp/d'])).code, 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await run(['exec', cname, 'cat', '/tmp/d'])).stdout, 'detached\n');
      const tty = await runInPty([name === 'docker' ? DOCKER : BERTH, 'exec', '-it', cname, 'sh'], [
        { waitFor: '#', send: 'tty; stty size\r' },
        { waitFor: /\d+ \d+/, send: 'exit 4\r' },
      ], { env: d.env, rows: 33, cols: 77 });
      assert.match(tty.output, /33 77/);
      assert.equal(tty.code, 4);
      await d.docker(['rm', '-f', cname]);
    });
  }

  test('exec into a stopped container is a 409', async () => {
    await d.docker(['create', '--name', 'stopped', 'busybox', 'true']);
    const r = await d.http('POST', '/v1.47/containers/stopped/exec', JSON.stringify({ Cmd: ['true'] }));
    assert.equal(r.status, 409);
    assert.match((JSON.parse(r.body) as { message: string }).message, /is not running/);
    await d.docker(['rm', 'stopped']);
  });

  test('exec into a container started with a TTY', async () => {
    await d.docker(['run', '-dt', '--name', 'ttyc', 'busybox', 'sh']);
    assert.equal((await d.docker(['exec', 'ttyc', 'echo', 'plain'])).stdout, 'plain\n');
    await d.docker(['rm', '-f', 'ttyc']);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});
