/**
 * Resource limits, checked from inside containers with the real docker CLI:
 * memory (OOM kill reported as OOMKilled with exit 137), CPU quota and
 * shares, pids, ulimits, /dev/shm size, sysctls. This machine runs cgroup v1;
 * the v2 translation is runc's (unit tests cover our v2 spec fields).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../support/daemon.js';

describe('resource limits', () => {
  let d: TestDaemon;
  const out = async (args: string[]) => {
    const r = await d.docker(['run', '--rm', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('--memory: a container that allocates too much is OOM-killed, exit 137, OOMKilled true, an oom event', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    // several runs: the shim's OOM event can trail the exit, the daemon must still see it every time
    for (let i = 0; i < 4; i++) {
      const name = `hog${i}`;
      const r = await d.docker(['run', '--name', name, '--memory', '32m', 'busybox', i % 2 ? 'tail' : 'sh', ...(i % 2 ? ['/dev/zero'] : ['-c', 'x=0123456789abcdef; while true; do x=$x$x; done'])]);
      assert.equal(r.code, 137, r.stderr);
      assert.equal((await d.docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}', name])).stdout.trim(), 'true 137 exited', name);
      await d.docker(['rm', name]);
    }
    const events = await d.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=oom', '--format', '{{.Actor.Attributes.name}}']);
    assert.deepEqual([...new Set(events.stdout.trim().split('\n'))].sort(), ['hog0', 'hog1', 'hog2', 'hog3']);
    // and a clean exit under a limit is not an OOM
    await d.docker(['run', '--name', 'calm', '--memory', '32m', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'calm'])).stdout.trim(), 'false 3');
    await d.docker(['rm', 'calm']);
  });

  test('--memory, --cpus, --cpu-shares and --pids-limit reach the container\'s cgroups', async () => {
    const text = await out(['--memory', '48m', '--memory-swap', '64m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '7', 'busybox', 'sh', '-c',
      'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares pids/pids.max']);
    assert.deepEqual(text.trim().split('\n'), [String(48 << 20), String(64 << 20), '50000', '100000', '512', '7']);
  });

  test('--cpus throttles a busy loop', async () => {
    const stat = await out(['--cpus', '0.2', 'busybox', 'sh', '-c', 'timeout 1 sh -c "while :; do :; done"; cat /sys/fs/cgroup/cpu/cpu.stat']);
    const throttled = Number(/^nr_throttled (\d+)$/m.exec(stat)![1]);
    const periods = Number(/^nr_periods (\d+)$/m.exec(stat)![1]);
    assert.ok(periods >= 5 && throttled >= periods / 2, `throttled in ${throttled} of ${periods} periods`);
  });

  test('--pids-limit stops fork bombs', async () => {
    const r = await d.docker(['run', '--rm', '--pids-limit', '5', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait']);
    assert.match(r.stderr, /can't fork: Resource temporarily unavailable/);
  });

  test('--ulimit, --shm-size and --sysctl', async () => {
    const text = await out(['--ulimit', 'nofile=100:200', '--shm-size', '2m', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1048576', 'busybox', 'sh', '-c',
      'ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1; cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax']);
    const [soft, hard, shm, fwd, shmmax] = text.trim().split('\n');
    assert.equal(soft, '100');
    assert.equal(hard, '200');
    assert.match(shm!, /^shm\s+2048\s/);
    assert.equal(fwd, '1');
    assert.equal(shmmax, '1048576');
    const hostNet = await d.docker(['run', '--rm', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'true']);
    assert.notEqual(hostNet.code, 0, 'net.* sysctls need the container\'s own network namespace');
  });

  test('limits show in inspect; impossible values are refused', async () => {
    await d.docker(['create', '--name', 'limited', '--memory', '64m', '--cpus', '1.5', '--cpu-shares', '256', '--pids-limit', '9', '--ulimit', 'nproc=10:20', 'busybox', 'true']);
    const hc = JSON.parse((await d.docker(['inspect', '-f', '{{json .HostConfig}}', 'limited'])).stdout) as Record<string, unknown>;
    assert.equal(hc.Memory, 64 << 20);
    assert.equal(hc.MemorySwap, 128 << 20);
    assert.equal(hc.NanoCpus, 1.5e9);
    assert.equal(hc.CpuShares, 256);
    assert.equal(hc.PidsLimit, 9);
    assert.deepEqual(hc.Ulimits, [{ Name: 'nproc', Hard: 20, Soft: 10 }]);
    await d.docker(['rm', 'limited']);
    const cpus = await d.docker(['run', '--rm', '--cpus', '64', 'busybox', 'true']);
    assert.equal(cpus.code, 125);
    assert.match(cpus.stderr, /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/);
    const mem = await d.docker(['run', '--rm', '--memory', '1m', 'busybox', 'true']);
    assert.match(mem.stderr, /Minimum memory limit allowed is 6MB/);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
  });
});
