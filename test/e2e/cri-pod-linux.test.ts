/**
 * The Linux parts of a pod through the CRI, each checked from inside its
 * containers: the pod's cgroup parent, its sysctls, a container's devices,
 * bind mount propagation, and the /dev/shm its containers share.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { CriClient, grpcCode } from '../support/cri-client.js';
import { waitFor } from '../support/wait.js';

const INVALID_ARGUMENT = 3;

describe('CRI pod: cgroup parent, sysctls, devices, mount propagation, shared /dev/shm', () => {
  let d: TestDaemon;
  let cri: CriClient;
  let dir: string;
  let n = 0;
  const pods: string[] = [];
  const hostMounts: string[] = [];

  const sh = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const runPod = async (linux: Record<string, unknown> = {}) => {
    const cfg = { metadata: { name: `p${n}`, namespace: 'default', uid: `linux-${process.pid}-${n++}`, attempt: 0 }, hostname: 'linux', log_directory: join(dir, 'logs'), linux };
    const id = (await cri.runtime('RunPodSandbox', { config: cfg })).pod_sandbox_id as string;
    pods.push(id);
    return { id, cfg };
  };
  const start = async (pod: { id: string; cfg: object }, name: string, extra: Record<string, unknown> = {}) => {
    const id = (await cri.runtime('CreateContainer', {
      pod_sandbox_id: pod.id, sandbox_config: pod.cfg,
      config: { metadata: { name, attempt: 0 }, image: { image: 'busybox:latest' }, command: ['sleep', '3600'], log_path: `${name}.log`, ...extra },
    })).container_id as string;
    await cri.runtime('StartContainer', { container_id: id });
    return id;
  };
  const exec = async (id: string, script: string) => {
    const r = await cri.runtime('ExecSync', { container_id: id, cmd: ['sh', '-c', script], timeout: 20 }) as { stdout: Buffer; stderr: Buffer; exit_code: number };
    return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exit_code };
  };
  const removePod = async (id: string) => {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: id });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
    pods.splice(pods.indexOf(id), 1);
  };

  before(async () => {
    dir = mkdtempSync('/tmp/berth-cri-linux-');
    // --debug: the spans of the CRI calls show which programs a start runs
    d = await TestDaemon.start({ extraArgs: ['--cri-socket', join(dir, 'cri.sock'), '--debug'] });
    await d.busybox();
    cri = new CriClient(join(dir, 'cri.sock'));
  });
  after(async () => {
    for (const id of [...pods]) await removePod(id).catch(() => {});
    cri?.close();
    for (const m of hostMounts.reverse()) spawnSync('umount', ['-l', m]);
    await d?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the pod\'s cgroup_parent holds its sandbox and containers; their cgroups go with the pod', async () => {
    const parent = `${d.cgroupParent}/kubepods/pod-${process.pid}`;
    const pod = await runPod({ cgroup_parent: parent });
    const c = await start(pod, 'cg');
    const cgroups = (await exec(c, 'cat /proc/self/cgroup')).out;
    assert.match(cgroups, new RegExp(`:memory:${parent}/${c}\\n`), cgroups);
    assert.match(cgroups, new RegExp(`:pids:${parent}/${c}\\n`), cgroups);
    assert.ok(existsSync(join('/sys/fs/cgroup/memory', parent, pod.id)), 'the sandbox\'s cgroup is under the pod\'s');
    await removePod(pod.id);
    for (const ctrl of readdirSync('/sys/fs/cgroup')) {
      const p = join('/sys/fs/cgroup', ctrl, parent);
      if (!existsSync(p)) continue;
      assert.deepEqual(readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name), [], `${ctrl}: no container cgroups left`);
      // the pod's cgroup is the kubelet's to remove, as with containerd
      rmdirSync(p);
      rmdirSync(join('/sys/fs/cgroup', ctrl, d.cgroupParent, 'kubepods'));
    }
  });

  test('pod sysctls are set in the pod\'s namespaces and seen by its containers; a non-namespaced one is refused', async () => {
    const pod = await runPod({ sysctls: { 'net.ipv4.ip_local_port_range': '20000 30000', 'kernel.shm_rmid_forced': '1', 'net.ipv4.ip_unprivileged_port_start': '1024' } });
    const c = await start(pod, 'sysctl');
    const r = await exec(c, 'cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_unprivileged_port_start');
    // the container joined the pod's network namespace: it does not reset the pod's unprivileged port start to Docker's default 0
    assert.deepEqual(r.out.split('\n').map((l) => l.replace(/\s+/g, ' ')).filter(Boolean), ['20000 30000', '1', '1024']);
    await removePod(pod.id);
    await assert.rejects(runPod({ sysctls: { 'vm.swappiness': '10' } }), (e) => grpcCode(e) === INVALID_ARGUMENT && /sysctl 'vm.swappiness=10' is not allowed/.test(String(e)));
  });

  test('a container\'s devices appear at their container path with the permissions asked for', async () => {
    const pod = await runPod();
    // loop-control is in neither Docker's nor runc's default device list: only the mapping lets the container at it
    const c = await start(pod, 'dev', { devices: [{ host_path: '/dev/loop-control', container_path: '/dev/lc', permissions: 'r' }] });
    const ls = await exec(c, 'ls -l /dev/lc');
    assert.match(ls.out, /^c[rw-]{9}\s+\d+\s+\S+\s+\S+\s+10,\s+237 /, ls.out);
    assert.match((await exec(c, 'head -c 1 /dev/lc')).err, /Input\/output error/, 'read is allowed: the open succeeds');
    const w = await exec(c, 'echo x > /dev/lc');
    assert.match(w.err, /Operation not permitted/, 'write is not in the rule');
    await removePod(pod.id);
  });

  test('mount propagation: HOST_TO_CONTAINER sees a host mount made after start, PRIVATE does not, BIDIRECTIONAL shows the container\'s on the host', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    sh('mount', ['--bind', shared, shared]);
    hostMounts.push(shared);
    sh('mount', ['--make-rshared', shared]);
    const pod = await runPod();
    const c = await start(pod, 'prop', {
      mounts: [
        { host_path: shared, container_path: '/slave', propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
        { host_path: shared, container_path: '/private', propagation: 'PROPAGATION_PRIVATE' },
      ],
    });
    const later = join(shared, 'later');
    mkdirSync(later);
    sh('mount', ['-t', 'tmpfs', 'tmpfs', later]);
    hostMounts.push(later);
    writeFileSync(join(later, 'f'), 'from-the-host\n');
    assert.equal((await exec(c, 'cat /slave/later/f')).out, 'from-the-host\n');
    assert.match((await exec(c, 'cat /private/later/f')).err, /No such file/);

    const b = await start(pod, 'bidir', {
      mounts: [{ host_path: shared, container_path: '/both', propagation: 'PROPAGATION_BIDIRECTIONAL' }],
      linux: { security_context: { privileged: true } },
    });
    const made = await exec(b, 'mkdir -p /both/fromctr && mount -t tmpfs tmpfs /both/fromctr && echo from-the-container > /both/fromctr/g');
    assert.equal(made.code, 0, made.err);
    hostMounts.push(join(shared, 'fromctr'));
    assert.equal(readFileSync(join(shared, 'fromctr', 'g'), 'utf8'), 'from-the-container\n');
    await removePod(pod.id);
  });

  test('ContainerStatus lists the config\'s mounts with their propagation, and not the pod\'s /dev/shm (critest: mount specs)', async () => {
    const host = join(dir, 'status-mounts');
    mkdirSync(host, { recursive: true });
    const pod = await runPod();
    const c = await start(pod, 'status-mounts', {
      mounts: [
        { host_path: host, container_path: '/ro', readonly: true },
        { host_path: host, container_path: '/slave', propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
      ],
    });
    const st = (await cri.runtime('ContainerStatus', { container_id: c })).status as { mounts: { container_path: string; host_path: string; readonly: boolean; propagation: string }[] };
    const got = st.mounts.map((m) => ({ container_path: m.container_path, host_path: m.host_path, readonly: m.readonly, propagation: m.propagation }))
      .sort((a, b) => a.container_path.localeCompare(b.container_path));
    assert.deepEqual(got, [
      { container_path: '/ro', host_path: host, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
      { container_path: '/slave', host_path: host, readonly: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
    ]);
    // the pod's /dev/shm is still there, only not reported
    assert.match((await exec(c, 'grep " /dev/shm " /proc/self/mounts')).out, /tmpfs/);
    await removePod(pod.id);
  });

  test('a pod\'s containers run in its sandbox\'s shim: one shim per pod, gone with the pod', async () => {
    const shims = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.includes('containerd-shim-runc-v2') && cmd.includes(`berth:${d.execRoot}\0`);
      } catch {
        return false;
      }
    }).length;
    const before = shims();
    const pod = await runPod();
    const a = await start(pod, 'one');
    await start(pod, 'two');
    assert.equal(shims(), before + 1);
    // the containers connect to the sandbox's shim: no `shim start` program runs for them
    const traces = JSON.parse((await d.http('GET', '/debug/spans')).body) as { name: string; spans: { name: string }[] }[];
    const starts = traces.filter((t) => t.name === 'CRI StartContainer').slice(-2); // this pod's two
    for (const t of starts) {
      assert.ok(t.spans.some((s) => s.name === 'ttrpc Create'), t.spans.map((s) => s.name).join(', '));
      assert.ok(!t.spans.some((s) => s.name === 'exec containerd-shim-runc-v2'), t.spans.map((s) => s.name).join(', '));
    }
    assert.ok(traces.filter((t) => t.name === 'CRI RunPodSandbox').pop()?.spans.some((s) => s.name === 'exec containerd-shim-runc-v2'), 'the sandbox starts the shim');
    // each container is its own task in it: exec, stop and status apart
    assert.equal((await exec(a, 'echo in-one')).out, 'in-one\n');
    await cri.runtime('StopContainer', { container_id: a, timeout: 0 });
    assert.equal((await cri.runtime('ContainerStatus', { container_id: a })).status.state, 'CONTAINER_EXITED');
    await cri.runtime('RemoveContainer', { container_id: a });
    assert.equal(shims(), before + 1, 'the sandbox and the other container keep the shim');
    await removePod(pod.id);
    await waitFor(async () => shims() === before, 10_000, 'the shim exits with its last task');
  });

  test('the containers of a pod share its /dev/shm; it is unmounted with the pod', async () => {
    const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(join(d.execRoot, 'cri-shm')));
    const before = mounts().length;
    const pod = await runPod();
    const a = await start(pod, 'shm-a');
    const b = await start(pod, 'shm-b');
    assert.equal((await exec(a, 'echo posix-shm > /dev/shm/seg && echo ok')).out, 'ok\n');
    assert.equal((await exec(b, 'cat /dev/shm/seg')).out, 'posix-shm\n');
    assert.equal(mounts().length, before + 1, mounts().join('\n'));
    // a pod of its own has a /dev/shm of its own
    const other = await runPod();
    const o = await start(other, 'shm-other');
    assert.match((await exec(o, 'cat /dev/shm/seg')).err, /No such file/);
    await removePod(pod.id);
    await removePod(other.id);
    assert.equal(mounts().length, before);
    if (before === 0) assert.deepEqual(readdirSync(join(d.execRoot, 'cri-shm')), []);
  });
});
