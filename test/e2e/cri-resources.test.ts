/**
 * The CRI's stats, UpdateContainerResources and ReopenContainerLog:
 * stats from the cgroups `docker stats` reads and the writable layer;
 * resources changed through `docker update`'s path land in the cgroup; a
 * log the kubelet renamed is written anew at its path once reopened.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { TestDaemon } from '../support/daemon.js';
import { grpcCode, type CriClient } from '../support/cri-client.js';
import { CriPod, type PodConfig } from '../support/cri-pod.js';
import { waitFor } from '../support/wait.js';

const NOT_FOUND = 5;
const MiB = 1 << 20;

describe('CRI stats, resources and log reopening', () => {
  let d: TestDaemon;
  let cri: CriClient;
  let fx: CriPod;
  let pod: string;
  let podCfg: PodConfig;

  const ok = (args: string[]) => d.dockerOk(args, { timeoutMs: 120_000 });
  const start = (name: string, command: string[], extra: Record<string, unknown> = {}) => fx.startContainer(name, command, { labels: { c: name }, ...extra });
  const exec = async (id: string, cmd: string[]) => {
    const r = await cri.runtime('ExecSync', { container_id: id, cmd, timeout: 30 });
    assert.equal(r.exit_code, 0, `${cmd.join(' ')}: ${Buffer.from(r.stderr).toString()}`);
    return Buffer.from(r.stdout).toString().trim();
  };
  const n = (v: { value: string } | null | undefined) => Number(v?.value ?? -1);

  before(async () => {
    fx = await CriPod.start('res', { app: 'res' });
    ({ d, cri, id: pod, config: podCfg } = fx);
  });
  after(async () => {
    await fx?.destroy();
  });

  test('the default infra image was made offline from busybox at the first pod, and its pause exits on SIGTERM', async () => {
    const st = await cri.image('ImageStatus', { image: { image: 'registry.k8s.io/pause:3.10' } });
    assert.ok(st.image, 'the pause image exists');
    assert.ok(st.image.repo_tags.includes('registry.k8s.io/pause:3.10'));
    assert.equal((await ok(['image', 'inspect', '--format', '{{index .Config.Labels "io.berth.pause"}}', 'registry.k8s.io/pause:3.10'])).trim(), 'busybox');
    assert.equal((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod })).status.state, 'SANDBOX_READY');
    // a second pod reuses it; its pause process ends on SIGTERM as the real one does
    const other = (await cri.runtime('RunPodSandbox', { config: { ...podCfg, metadata: { name: 'res2', namespace: 'default', uid: `res2-${process.pid}`, attempt: 0 } } })).pod_sandbox_id as string;
    try {
      const t0 = Date.now();
      await ok(['kill', '--signal', 'TERM', other]);
      await waitFor(async () => (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: other })).status.state === 'SANDBOX_NOTREADY', 10_000, 'pause exits on SIGTERM');
      assert.ok(Date.now() - t0 < 10_000);
    } finally {
      await cri.runtime('StopPodSandbox', { pod_sandbox_id: other });
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: other });
    }
  });

  test('ContainerStats and PodSandboxStats: CPU time, working set, writable layer, processes; the List forms filter', async () => {
    const id = await start('worker', ['sh', '-c', 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; dd if=/dev/zero of=/fill bs=1M count=4 2>/dev/null; touch /done; sleep 3600']);
    await waitFor(async () => (await cri.runtime('ExecSync', { container_id: id, cmd: ['test', '-e', '/done'] })).exit_code === 0, 60_000, 'the worker is done');
    const { stats } = await cri.runtime('ContainerStats', { container_id: id });
    assert.equal(stats.attributes.id, id);
    assert.equal(stats.attributes.metadata.name, 'worker');
    assert.deepEqual(stats.attributes.labels, { c: 'worker' });
    assert.ok(n(stats.cpu.usage_core_nano_seconds) > 10_000_000, `cpu ${JSON.stringify(stats.cpu)}`);
    assert.ok(n(stats.memory.working_set_bytes) > 0, `memory ${JSON.stringify(stats.memory)}`);
    assert.ok(n(stats.writable_layer.used_bytes) >= 4 * MiB, `layer ${JSON.stringify(stats.writable_layer)}`);
    assert.ok(n(stats.writable_layer.inodes_used) >= 2);
    assert.ok(existsSync(stats.writable_layer.fs_id.mountpoint));

    const idle = await start('idle', ['sleep', '3600']);
    const listed = (await cri.runtime('ListContainerStats', { filter: { pod_sandbox_id: pod } })).stats as { attributes: { id: string } }[];
    assert.deepEqual(listed.map((s) => s.attributes.id).sort(), [id, idle].sort());
    const byLabel = (await cri.runtime('ListContainerStats', { filter: { label_selector: { c: 'idle' } } })).stats as { attributes: { id: string } }[];
    assert.deepEqual(byLabel.map((s) => s.attributes.id), [idle]);

    const ps = (await cri.runtime('PodSandboxStats', { pod_sandbox_id: pod })).stats;
    assert.equal(ps.attributes.id, pod);
    assert.deepEqual(ps.attributes.labels, { app: 'res' });
    assert.ok(n(ps.linux.cpu.usage_core_nano_seconds) >= n(stats.cpu.usage_core_nano_seconds));
    // pause, the worker's sleep (sh execs its last command), the idle sleep
    assert.ok(n(ps.linux.process.process_count) >= 3, JSON.stringify(ps.linux.process));
    assert.equal(ps.linux.network.default_interface.name, 'eth0');
    assert.equal(ps.linux.containers.length, 2);
    const all = (await cri.runtime('ListPodSandboxStats', { filter: { id: pod } })).stats as { attributes: { id: string } }[];
    assert.deepEqual(all.map((s) => s.attributes.id), [pod]);
    await assert.rejects(cri.runtime('ContainerStats', { container_id: 'nope' }), (e) => grpcCode(e) === NOT_FOUND);
    await assert.rejects(cri.runtime('PodSandboxStats', { pod_sandbox_id: 'nope' }), (e) => grpcCode(e) === NOT_FOUND);
  });

  test('UpdateContainerResources changes the running container\'s memory limit and CPU shares and quota', async () => {
    const id = await start('limited', ['sleep', '3600'], { linux: { resources: { memory_limit_in_bytes: String(64 * MiB), cpu_shares: '512' } } });
    const cgroupFile = async (ctrl: string, file: string) => {
      // the container's own cgroup path, read on the host
      const lines = (await exec(id, ['cat', '/proc/self/cgroup'])).split('\n');
      const line = lines.find((l) => l.split(':')[1]?.split(',').includes(ctrl)) ?? lines.find((l) => l.startsWith('0::'))!;
      const path = line.split(':').slice(2).join(':');
      const v1 = join('/sys/fs/cgroup', ctrl, path, file);
      return readFileSync(existsSync(v1) ? v1 : join('/sys/fs/cgroup', path, file), 'utf8').trim();
    };
    assert.equal(await cgroupFile('memory', 'memory.limit_in_bytes'), String(64 * MiB));
    await cri.runtime('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: String(256 * MiB), cpu_shares: '1024', cpu_period: '100000', cpu_quota: '50000' } });
    assert.equal(await cgroupFile('memory', 'memory.limit_in_bytes'), String(256 * MiB));
    assert.equal(await cgroupFile('cpu', 'cpu.shares'), '1024');
    assert.equal(await cgroupFile('cpu', 'cpu.cfs_quota_us'), '50000');
    // ContainerStatus reports what the container runs with now
    const res = (await cri.runtime('ContainerStatus', { container_id: id })).status.resources.linux;
    assert.deepEqual([res.memory_limit_in_bytes, res.cpu_shares, res.cpu_period, res.cpu_quota], [String(256 * MiB), '1024', '100000', '50000']);
    // the swap limit the kubelet sends (equal to the memory: no swap) is kept too
    await cri.runtime('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: String(128 * MiB), memory_swap_limit_in_bytes: String(128 * MiB) } });
    assert.equal(await cgroupFile('memory', 'memory.limit_in_bytes'), String(128 * MiB));
    assert.equal(await cgroupFile('memory', 'memory.memsw.limit_in_bytes').catch(() => String(128 * MiB)), String(128 * MiB));
    await assert.rejects(cri.runtime('UpdateContainerResources', { container_id: 'nope', linux: {} }), (e) => grpcCode(e) === NOT_FOUND);
  });

  test('ReopenContainerLog: after the kubelet renamed the log, new lines go to a new file at the path', async () => {
    const id = await start('talker', ['sh', '-c', 'i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.1; done']);
    const log = join(podCfg.log_directory, 'talker.log');
    await waitFor(async () => existsSync(log) && readFileSync(log, 'utf8').includes('line-2'), 15_000, 'first lines');
    renameSync(log, `${log}.1`);
    await cri.runtime('ReopenContainerLog', { container_id: id });
    await waitFor(async () => existsSync(log) && readFileSync(log, 'utf8').split('\n').filter(Boolean).length >= 3, 15_000, 'lines in the new file');
    const rotated = readFileSync(`${log}.1`, 'utf8').trim().split('\n');
    const fresh = readFileSync(log, 'utf8').trim().split('\n');
    const num = (l: string) => Number(/line-(\d+)$/.exec(l)![1]);
    for (const l of [...rotated, ...fresh]) assert.match(l, /^\S+Z stdout F line-\d+$/);
    // nothing lost or repeated across the two files
    assert.equal(num(fresh[0]!), num(rotated[rotated.length - 1]!) + 1);
    await cri.runtime('StopContainer', { container_id: id, timeout: 0 });
    await assert.rejects(cri.runtime('ReopenContainerLog', { container_id: id }), (e) => grpcCode(e) === 9);
  });
});
