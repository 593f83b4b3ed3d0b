/** Container lifecycle beyond the skeleton: restart policies, pause, rename, update, top, stats, prune, events, ps. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';

describe('container lifecycle', () => {
  let d: TestDaemon;
  const inspect = async (ref: string, f: string) => (await d.docker(['inspect', '--format', f, ref])).stdout.trim();
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('restart=on-failure:2 restarts twice, then stays exited', async () => {
    await d.docker(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 1']);
    await waitFor(async () => (await inspect('flaky', '{{.RestartCount}} {{.State.Status}}')) === '2 exited', 10_000);
    assert.equal((await d.docker(['logs', 'flaky'])).stdout, 'run\nrun\nrun\n');
    assert.equal(await inspect('flaky', '{{.State.ExitCode}}'), '1');
    await d.docker(['rm', 'flaky']);
  });

  test('restart=always keeps coming back until stopped by hand', async () => {
    await d.docker(['run', '-d', '--name', 'phoenix', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']);
    await waitFor(async () => Number(await inspect('phoenix', '{{.RestartCount}}')) >= 2, 10_000);
    assert.equal((await d.docker(['stop', 'phoenix'])).code, 0);
    const count = await inspect('phoenix', '{{.RestartCount}}');
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(await inspect('phoenix', '{{.RestartCount}} {{.State.Status}}'), `${count} exited`);
    await d.docker(['rm', 'phoenix']);
  });

  test('--rm: restart keeps the container and its writable layer (as dockerd does); its rootfs is volatile, a plain one\'s is not', async () => {
    const id = (await d.dockerOk(['run', '-d', '--rm', '--name', 'ephemeral', 'busybox', 'sh', '-c', 'echo kept > /f; exec sleep 300'])).trim();
    await waitFor(async () => (await d.docker(['exec', 'ephemeral', 'cat', '/f'])).stdout === 'kept\n', 10_000);
    // its unmount at exit does not wait for the host disk's writeback: the layer goes with the container
    assert.match(await d.dockerOk(['exec', 'ephemeral', 'grep', '^overlay / ', '/proc/mounts']), /[,=]volatile[,\s]/);
    assert.equal((await d.docker(['restart', '-t', '0', 'ephemeral'])).code, 0);
    // before the fix the restart's stop removed it; the mount after a volatile one needs the kernel's mark taken away
    assert.equal(await inspect('ephemeral', '{{.State.Status}} {{.HostConfig.AutoRemove}}'), 'running true');
    assert.equal(await d.dockerOk(['exec', 'ephemeral', 'cat', '/f']), 'kept\n');
    // stopped for good, it is removed
    assert.equal((await d.docker(['stop', '-t', '0', 'ephemeral'])).code, 0);
    await waitFor(async () => (await d.docker(['inspect', 'ephemeral'])).code === 1, 10_000);
    // before the fix the record went while the restarted process and its shim ran on, unowned
    const shimOf = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id);
      } catch {
        return false; // gone meanwhile
      }
    };
    await waitFor(async () => !d.leftovers().shims.some(shimOf), 10_000, 'its shim to go');
    await d.dockerOk(['run', '-d', '--name', 'durable', 'busybox', 'sleep', '300']);
    assert.doesNotMatch(await d.dockerOk(['exec', 'durable', 'grep', '^overlay / ', '/proc/mounts']), /volatile/);
    await d.dockerOk(['rm', '-f', 'durable']);
  });

  test('pause freezes the processes; exec and rm refuse a paused container', async () => {
    await d.docker(['run', '-d', '--name', 'frozen', 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done']);
    assert.equal((await d.docker(['pause', 'frozen'])).code, 0);
    assert.equal(await inspect('frozen', '{{.State.Status}} {{.State.Paused}}'), 'paused true');
    assert.match((await d.docker(['ps'])).stdout, /Up .* \(Paused\)/);
    const exec = await d.docker(['exec', 'frozen', 'true']);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /is paused/);
    assert.match((await d.docker(['pause', 'frozen'])).stderr, /is already paused/);
    assert.match((await d.docker(['rm', 'frozen'])).stderr, /cannot remove a paused container/);
    // read the counter from the host: exec is refused while paused
    const counter = join(d.dataRoot, 'containers', await inspect('frozen', '{{.Id}}'), 'rw', 'diff', 'tmp', 'n');
    const frozenAt = readFileSync(counter, 'utf8');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(readFileSync(counter, 'utf8'), frozenAt, 'no counting while paused');
    assert.equal((await d.docker(['unpause', 'frozen'])).code, 0);
    const a = (await d.docker(['exec', 'frozen', 'cat', '/tmp/n'])).stdout;
    await waitFor(async () => Number((await d.docker(['exec', 'frozen', 'cat', '/tmp/n'])).stdout) > Number(a), 10_000, 'counting again after unpause');
    assert.match((await d.docker(['unpause', 'frozen'])).stderr, /is not paused/);
    await d.docker(['rm', '-f', 'frozen']);
  });

  test('pause, unpause, update, kill and top racing the container\'s own exit answer 2xx or 409, never 500', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 25; i++) {
      const made = await d.http('POST', '/v1.47/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', `sleep 0.0${i % 10}`] }));
      const id = (JSON.parse(made.body) as { Id: string }).Id;
      await d.http('POST', `/v1.47/containers/${id}/start`);
      const answers = await Promise.all([
        d.http('POST', `/v1.47/containers/${id}/pause`),
        d.http('POST', `/v1.47/containers/${id}/update`, JSON.stringify({ CpuShares: 512 })),
        d.http('POST', `/v1.47/containers/${id}/kill?signal=SIGUSR1`),
        d.http('GET', `/v1.47/containers/${id}/top`),
      ]);
      await d.http('POST', `/v1.47/containers/${id}/unpause`).then((r) => statuses.add(r.status));
      for (const r of answers) statuses.add(r.status);
      await d.http('DELETE', `/v1.47/containers/${id}?force=1`);
    }
    assert.deepEqual([...statuses].filter((s) => s >= 500), []);
  });

  test('rename changes the name everywhere and refuses a taken one', async () => {
    await d.docker(['create', '--name', 'old-name', 'busybox', 'true']);
    await d.docker(['create', '--name', 'taken', 'busybox', 'true']);
    assert.equal((await d.docker(['rename', 'old-name', 'new-name'])).code, 0);
    assert.equal(await inspect('new-name', '{{.Name}}'), '/new-name');
    assert.equal((await d.docker(['inspect', 'old-name'])).code, 1);
    const clash = await d.docker(['rename', 'new-name', 'taken']);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /is already in use/);
    await d.docker(['rm', 'new-name', 'taken']);
  });

  test('update changes the limits of a running container', async () => {
    await d.docker(['run', '-d', '--name', 'upd', '--memory', '64m', 'busybox', 'sleep', '300']);
    const limit = () => d.docker(['exec', 'upd', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal((await limit()).stdout.trim(), String(64 * 1024 * 1024));
    const u = await d.docker(['update', '--memory', '96m', '--memory-swap', '192m', '--restart', 'on-failure:3', 'upd']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal((await limit()).stdout.trim(), String(96 * 1024 * 1024));
    assert.equal(await inspect('upd', '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}'), `${96 * 1024 * 1024} on-failure`);
    // the cgroup parent is where the running cgroup is: an update ignores it, as dockerd does
    const cg = await d.http('POST', '/v1.47/containers/upd/update', JSON.stringify({ CgroupParent: '/elsewhere' }), { 'Content-Type': 'application/json' });
    assert.equal(cg.status, 200, cg.body);
    assert.equal(await inspect('upd', '{{.HostConfig.CgroupParent}}'), '');
    await d.docker(['rm', '-f', 'upd']);
  });

  test('top lists the container processes; stats reports usage', async () => {
    await d.docker(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'sleep 300']);
    const top = await d.docker(['top', 'busy']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/m);
    assert.match(top.stdout, /sleep 300/);
    const stats = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'busy']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^busy \d+(\.\d+)?[KM]iB \/ \d+(\.\d+)?[MG]iB [12]$/m);
    const raw = JSON.parse((await d.http('GET', '/v1.47/containers/busy/stats?stream=0')).body) as Record<string, any>;
    assert.ok(raw.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(raw.precpu_stats.system_cpu_usage > 0);
    assert.ok(raw.memory_stats.usage > 0);
    assert.equal(raw.name, '/busy');
    await d.docker(['rm', '-f', 'busy']);
  });

  test('ps: -a, -q, -n, -l, -s and filters', async () => {
    await d.docker(['run', '--name', 'ps-ok', '--label', 'tier=a', 'busybox', 'true']);
    await d.docker(['run', '--name', 'ps-fail', '--label', 'tier=b', 'busybox', 'sh', '-c', 'echo x > /big; exit 2']);
    await d.docker(['run', '-d', '--name', 'ps-up', 'busybox', 'sleep', '300']);
    const names = async (...args: string[]) => (await d.docker(['ps', ...args, '--format', '{{.Names}}'])).stdout.trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(await names(), ['ps-up']);
    assert.deepEqual(await names('-a'), ['ps-fail', 'ps-ok', 'ps-up']);
    assert.deepEqual(await names('-l'), ['ps-up']);
    assert.deepEqual(await names('-n', '2'), ['ps-fail', 'ps-up']);
    assert.deepEqual(await names('-a', '--filter', 'status=exited'), ['ps-fail', 'ps-ok']);
    assert.deepEqual(await names('-a', '--filter', 'exited=2'), ['ps-fail']);
    assert.deepEqual(await names('-a', '--filter', 'label=tier=a'), ['ps-ok']);
    assert.deepEqual(await names('-a', '--filter', 'name=ps-f'), ['ps-fail']);
    assert.deepEqual(await names('-a', '--filter', 'ancestor=busybox'), ['ps-fail', 'ps-ok', 'ps-up']);
    const size = await d.docker(['ps', '-a', '-s', '--filter', 'name=ps-fail', '--format', '{{.Size}}']);
    assert.match(size.stdout, /^\d+B \(virtual \d+(\.\d+)?MB\)$/m);
    const bad = await d.docker(['ps', '--filter', 'status=sleeping']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter/);
    await d.docker(['rm', '-f', 'ps-up']);
  });

  test('ps shows each change at once: rename, start, stop, rm (rows are cached between requests)', async () => {
    const row = async () => (await d.docker(['ps', '-a', '--filter', 'label=ps-fresh', '--format', '{{.Names}} {{.State}} {{.Status}}'])).stdout.trim();
    await d.docker(['create', '--name', 'fresh-a', '--label', 'ps-fresh', 'busybox', 'sleep', '300']);
    assert.equal(await row(), 'fresh-a created Created');
    await d.docker(['rename', 'fresh-a', 'fresh-b']);
    assert.equal(await row(), 'fresh-b created Created');
    await d.docker(['start', 'fresh-b']);
    assert.match(await row(), /^fresh-b running Up /);
    await d.docker(['stop', '-t', '0', 'fresh-b']);
    assert.match(await row(), /^fresh-b exited Exited \(137\) /);
    await d.docker(['rm', 'fresh-b']);
    assert.equal(await row(), '');
  });

  test('container prune removes stopped containers only', async () => {
    await d.docker(['run', '-d', '--name', 'keeper', 'busybox', 'sleep', '300']);
    const r = await d.docker(['container', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleted Containers:/);
    assert.match(r.stdout, /Total reclaimed space: /);
    assert.deepEqual((await d.docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.trim(), 'keeper');
    await d.docker(['rm', '-f', 'keeper']);
  });

  test('stop sends --stop-signal, waits --stop-timeout, then kills', async () => {
    await d.docker(['run', '-d', '--name', 'sigs', '--stop-signal', 'SIGUSR1', 'busybox', 'sh', '-c', 'trap "echo got-usr1; exit 7" USR1; while true; do sleep 0.1; done']);
    await waitFor(async () => (await inspect('sigs', '{{.State.Running}}')) === 'true');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await d.docker(['stop', 'sigs'])).code, 0);
    assert.equal(await inspect('sigs', '{{.State.ExitCode}}'), '7');
    assert.match((await d.docker(['logs', 'sigs'])).stdout, /got-usr1/);
    await d.docker(['rm', 'sigs']);
    await d.docker(['run', '-d', '--name', 'stubborn', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']);
    const t0 = Date.now();
    assert.equal((await d.docker(['stop', 'stubborn'])).code, 0);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 5000, `stop took ${took} ms`);
    assert.equal(await inspect('stubborn', '{{.State.ExitCode}}'), '137');
    await d.docker(['rm', 'stubborn']);
  });

  test('a foreground run forwards signals to the container and cannot-run commands exit 126', async () => {
    const { spawn } = await import('node:child_process');
    const { DOCKER } = await import('../support/daemon.js');
    const child = spawn(DOCKER, ['run', '--rm', 'busybox', 'sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while true; do sleep 0.1; done'], { env: { ...process.env, ...d.env } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor(async () => out.includes('ready'), 10_000, 'container ready');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.match(out, /got-term/);
    assert.equal(code, 3);
    const r = await d.docker(['run', '--rm', 'busybox', '/etc/passwd']);
    assert.equal(r.code, 126);
    assert.match(r.stderr, /permission denied/);
  });

  test('events report a run from create to destroy', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await d.docker(['run', '--rm', '--name', 'evt', 'busybox', 'sh', '-c', 'exit 2']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await d.docker(['events', '--since', String(since), '--until', String(until), '--filter', 'container=evt', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    assert.equal(r.code, 0, r.stderr);
    const actions = r.stdout.trim().split('\n').map((l) => l.split(' ')[0]);
    assert.deepEqual(actions.filter((a) => ['create', 'attach', 'start', 'die', 'destroy'].includes(a!)), ['create', 'attach', 'start', 'die', 'destroy']);
    const die = await d.docker(['events', '--since', String(since), '--until', String(until), '--filter', 'event=die', '--format', '{{json .}}']);
    const ev = JSON.parse(die.stdout.trim().split('\n').pop()!) as { Actor: { Attributes: Record<string, string> }; status: string };
    assert.equal(ev.Actor.Attributes.exitCode, '2');
    assert.equal(ev.status, 'die');
  });
});
