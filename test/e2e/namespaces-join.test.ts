/**
 * `--ipc container:X` and `--pid container:X` through the docker CLI: the
 * new container is in X's IPC and PID namespaces (berth accepted these
 * modes before but gave private namespaces); joining a stopped X fails
 * with moby's message.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../support/daemon.js';

describe('joining another container\'s IPC and PID namespaces', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  const ok = (args: string[]) => d.dockerOk(args, { timeoutMs: 120_000 });

  test('run --ipc container:X --pid container:X shares X\'s namespaces', async () => {
    await ok(['run', '-d', '--name', 'holder', 'busybox', 'sleep', '300']);
    const ipc = (await ok(['exec', 'holder', 'readlink', '/proc/self/ns/ipc'])).trim();
    const pid = (await ok(['exec', 'holder', 'readlink', '/proc/self/ns/pid'])).trim();
    const joined = await ok(['run', '--rm', '--ipc', 'container:holder', '--pid', 'container:holder', 'busybox', 'sh', '-c',
      'readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid; ps -o comm']);
    const [jIpc, jPid, ...procs] = joined.trim().split('\n');
    assert.equal(jIpc, ipc);
    assert.equal(jPid, pid);
    assert.ok(procs.includes('sleep'), joined);
    const own = (await ok(['run', '--rm', 'busybox', 'readlink', '/proc/self/ns/ipc'])).trim();
    assert.notEqual(own, ipc);
    await ok(['rm', '-f', 'holder']);
  });

  test('joining a stopped container fails with moby\'s message', async () => {
    await ok(['create', '--name', 'idle', 'busybox', 'true']);
    const r = await d.docker(['run', '--rm', '--ipc', 'container:idle', 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot join IPC of a non running container/);
    await ok(['rm', '-f', 'idle']);
  });
});
