/**
 * The CRI endpoint through a gRPC client of berth's own (crictl is not
 * packaged in Debian): version and status, images shared with `docker`,
 * a pod sandbox whose container writes a CRI-format log, two containers of
 * one pod on one network namespace, idempotent stops and removes, and
 * nothing left behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { CriClient, grpcCode } from '../support/cri-client.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { waitFor } from '../support/wait.js';
import { freePort } from '../support/net.js';

const PAUSE = 'berth-test/pause:1';
const NOT_FOUND = 5;

describe('CRI endpoint with --live-restore', () => {
  let d: TestDaemon;
  let cri: CriClient;
  let dir: string;
  before(async () => {
    dir = mkdtempSync('/tmp/berth-cri-');
    d = await TestDaemon.start({ extraArgs: ['--live-restore', '--cri-socket', join(dir, 'cri.sock'), '--cri-sandbox-image', PAUSE] });
    await d.busybox();
    await d.docker(['create', '--name', 'pause-src', 'busybox']);
    await d.docker(['commit', '--change', 'ENTRYPOINT ["sleep", "2147483647"]', '--change', 'CMD []', 'pause-src', PAUSE]);
    await d.docker(['rm', 'pause-src']);
    cri = new CriClient(join(dir, 'cri.sock'));
  });
  after(async () => {
    cri?.close();
    await d?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a pod keeps running across a restart and its container keeps writing its CRI log', async () => {
    const cfg = {
      metadata: { name: 'lr', namespace: 'default', uid: `lr-${process.pid}`, attempt: 0 }, hostname: 'lr', log_directory: join(dir, 'logs', 'lr'),
    };
    const pod = (await cri.runtime('RunPodSandbox', { config: cfg })).pod_sandbox_id as string;
    const id = (await cri.runtime('CreateContainer', {
      pod_sandbox_id: pod, sandbox_config: cfg,
      config: { metadata: { name: 'ticker', attempt: 0 }, image: { image: 'busybox:latest' }, log_path: 'ticker.log',
        command: ['sh', '-c', 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done'] },
    })).container_id as string;
    await cri.runtime('StartContainer', { container_id: id });
    const log = join(cfg.log_directory, 'ticker.log');
    const ticks = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
    await waitFor(async () => ticks().length >= 3, 15_000, 'first ticks');
    await d.restart();
    assert.equal((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod })).status.state, 'SANDBOX_READY');
    assert.equal((await cri.runtime('ContainerStatus', { container_id: id })).status.state, 'CONTAINER_RUNNING');
    const before = ticks().length;
    await waitFor(async () => ticks().length >= before + 3, 15_000, 'ticks after the restart');
    for (const line of ticks()) assert.match(line, /^\S+Z stdout F tick-\d+$/);
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod });
    assert.deepEqual(d.netLeftovers().netns, []);
  });
});

describe('CRI endpoint', () => {
  let d: TestDaemon;
  let cri: CriClient;
  let dir: string;
  let reg: Registry | undefined;

  const ok = (args: string[]) => d.dockerOk(args, { timeoutMs: 120_000 });

  let pods = 0;
  const sandboxConfig = (o: Record<string, unknown> = {}) => {
    pods++;
    return {
      metadata: { name: `pod${pods}`, namespace: 'default', uid: `uid-${pods}-${process.pid}`, attempt: 0 },
      hostname: `pod${pods}`, log_directory: join(dir, 'logs', `pod${pods}`), labels: { app: `pod${pods}` }, annotations: { note: 'kept as given' },
      ...o,
    };
  };
  const runPod = async (cfg = sandboxConfig()) => ({ id: (await cri.runtime('RunPodSandbox', { config: cfg })).pod_sandbox_id as string, cfg });
  const createContainer = async (pod: { id: string; cfg: ReturnType<typeof sandboxConfig> }, name: string, args: string[], logPath = `${name}/0.log`) => {
    const r = await cri.runtime('CreateContainer', {
      pod_sandbox_id: pod.id, sandbox_config: pod.cfg,
      config: { metadata: { name, attempt: 0 }, image: { image: 'busybox:latest' }, command: args, log_path: logPath, labels: { c: name } },
    });
    return r.container_id as string;
  };
  const status = async (id: string) => (await cri.runtime('ContainerStatus', { container_id: id })).status;

  before(async () => {
    dir = mkdtempSync('/tmp/berth-cri-');
    d = await TestDaemon.start({ extraArgs: ['--cri-socket', join(dir, 'cri.sock'), '--cri-sandbox-image', PAUSE] });
    await d.busybox();
    // the infra image, made offline: a process that sleeps until killed
    await ok(['create', '--name', 'pause-src', 'busybox']);
    await ok(['commit', '--change', 'ENTRYPOINT ["sleep", "2147483647"]', '--change', 'CMD []', 'pause-src', PAUSE]);
    await ok(['rm', 'pause-src']);
    cri = new CriClient(join(dir, 'cri.sock'));
  });
  after(async () => {
    cri?.close();
    await d?.destroy();
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('Version, Status and RuntimeConfig answer as a CRI v1 runtime', async () => {
    const v = await cri.runtime('Version', { version: 'v1' });
    assert.equal(v.runtime_name, 'berth');
    assert.equal(v.runtime_api_version, 'v1');
    const s = await cri.runtime('Status', {});
    assert.deepEqual(s.status.conditions.map((c: { type: string; status: boolean }) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]]);
    assert.equal((await cri.runtime('RuntimeConfig', {})).linux.cgroup_driver, 'CGROUPFS');
    await cri.runtime('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: '10.88.0.0/16' } } });
  });

  test('images: docker\'s busybox is listed by the CRI; a CRI pull shows in docker images; RemoveImage twice is fine', async () => {
    const listed = (await cri.image('ListImages', {})).images as { id: string; repo_tags: string[] }[];
    assert.ok(listed.some((i) => i.repo_tags.includes('docker.io/library/busybox:latest')), JSON.stringify(listed));
    const st = await cri.image('ImageStatus', { image: { image: 'busybox' } });
    assert.ok(st.image?.id.startsWith('sha256:'));
    assert.equal((await cri.image('ImageStatus', { image: { image: 'no-such-image:1' } })).image, null);

    reg = await startRegistry();
    const name = `${reg.host}/cri/busybox:1`;
    await ok(['tag', 'busybox', name]);
    await ok(['push', name]);
    await ok(['rmi', name]);
    assert.equal((await ok(['images', '-q', name])).trim(), '');
    const pulled = await cri.image('PullImage', { image: { image: name } });
    assert.match(pulled.image_ref, /^sha256:[a-f0-9]{64}$/);
    assert.ok((await ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').includes(name));
    const fs = await cri.image('ImageFsInfo', {});
    assert.ok(Number(fs.image_filesystems[0].used_bytes.value) > 0);

    await cri.image('RemoveImage', { image: { image: name } });
    await cri.image('RemoveImage', { image: { image: name } });
    assert.equal((await ok(['images', '-q', name])).trim(), '');
    // by name only that name goes: the same image's busybox:latest is a Docker user's
    assert.notEqual((await ok(['images', '-q', 'busybox:latest'])).trim(), '');
  });

  test('PullImage passes the request\'s credentials to a registry that wants them', async () => {
    const authReg = await startRegistry({ basic: { user: 'kube', password: 'let-me-in' } });
    const config = join(dir, 'docker-config');
    const env = { DOCKER_CONFIG: config };
    try {
      const name = `${authReg.host}/private/busybox:1`;
      const login = await d.docker(['login', '-u', 'kube', '--password-stdin', authReg.host], { input: 'let-me-in', env });
      assert.equal(login.code, 0, login.stderr);
      await ok(['tag', 'busybox', name]);
      const push = await d.docker(['push', name], { env, timeoutMs: 120_000 });
      assert.equal(push.code, 0, push.stderr);
      await ok(['rmi', name]);
      await assert.rejects(cri.image('PullImage', { image: { image: name } }), (e) => grpcCode(e) !== undefined && grpcCode(e) !== 0);
      const pulled = await cri.image('PullImage', { image: { image: name }, auth: { username: 'kube', password: 'let-me-in' } });
      assert.equal((await cri.image('ImageStatus', { image: { image: name } })).image.id, pulled.image_ref);
      await cri.image('RemoveImage', { image: { image: name } });
    } finally {
      await authReg.stop();
    }
  });

  test('a pod\'s echo container writes its output in the CRI log format at the path asked', async () => {
    const pod = await runPod();
    const st = await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id });
    assert.equal(st.status.state, 'SANDBOX_READY');
    assert.match(st.status.network.ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(st.status.annotations, { note: 'kept as given' });
    const id = await createContainer(pod, 'echo', ['sh', '-c', 'echo hello; echo oops >&2']);
    assert.equal((await status(id)).state, 'CONTAINER_CREATED');
    await cri.runtime('StartContainer', { container_id: id });
    await waitFor(async () => (await status(id)).state === 'CONTAINER_EXITED', 30_000);
    const s = await status(id);
    assert.equal(s.exit_code, 0);
    assert.equal(s.reason, 'Completed');
    assert.equal(s.log_path, join(pod.cfg.log_directory, 'echo/0.log'));
    const lines = readFileSync(s.log_path, 'utf8').split('\n').filter(Boolean).sort((a, b) => a.split(' ')[1]!.localeCompare(b.split(' ')[1]!));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stderr F oops$/);
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello$/);
    // Docker's listings never show the CRI's objects
    assert.equal((await ok(['ps', '-aq', '--no-trunc'])).split('\n').filter((l) => l === id || l === pod.id).length, 0);
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
  });

  test('two containers of a pod share its network namespace: one reaches the other on localhost', async () => {
    const pod = await runPod();
    const server = await createContainer(pod, 'server', ['sh', '-c', 'mkdir -p /www && echo shared-netns > /www/index.html && exec httpd -f -p 8080 -h /www']);
    const client = await createContainer(pod, 'client', ['sleep', '3600']);
    await cri.runtime('StartContainer', { container_id: server });
    await cri.runtime('StartContainer', { container_id: client });
    let got = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exit_code: -1 };
    await waitFor(async () => {
      got = await cri.runtime('ExecSync', { container_id: client, cmd: ['wget', '-qO-', 'http://127.0.0.1:8080/'], timeout: 10 }) as typeof got;
      return got.exit_code === 0;
    }, 30_000).catch(() => {});
    assert.equal(got.exit_code, 0, got.stderr.toString());
    assert.equal(got.stdout.toString(), 'shared-netns\n');
    // the pod's IPC and PID namespaces are shared too (the CRI's default, POD): the client sees the server's httpd
    const ns = async (id: string) => (await cri.runtime('ExecSync', { container_id: id, cmd: ['readlink', '/proc/self/ns/ipc'], timeout: 10 })).stdout.toString();
    assert.equal(await ns(client), await ns(server));
    const ps = await cri.runtime('ExecSync', { container_id: client, cmd: ['ps', '-o', 'comm'], timeout: 10 });
    assert.match(ps.stdout.toString(), /httpd/);
    // and the pod's hostname
    const h = await cri.runtime('ExecSync', { container_id: client, cmd: ['hostname'], timeout: 10 });
    assert.equal(h.stdout.toString().trim(), pod.cfg.hostname);
    // past its timeout the command is killed
    const t0 = Date.now();
    await assert.rejects(cri.runtime('ExecSync', { container_id: client, cmd: ['sleep', '30'], timeout: 1 }),
      (e) => grpcCode(e) === 4 && /timeout 1s exceeded: context deadline exceeded/.test(String(e)));
    assert.ok(Date.now() - t0 < 15_000);
    const left = await cri.runtime('ExecSync', { container_id: client, cmd: ['ps', '-o', 'args'], timeout: 10 });
    assert.doesNotMatch(left.stdout.toString(), /sleep 30/);
    const failed = await cri.runtime('ExecSync', { container_id: client, cmd: ['sh', '-c', 'echo err >&2; exit 3'], timeout: 10 });
    assert.equal(failed.exit_code, 3);
    assert.equal(failed.stderr.toString(), 'err\n');

    const listed = (await cri.runtime('ListContainers', { filter: { pod_sandbox_id: pod.id } })).containers as { id: string }[];
    assert.deepEqual(listed.map((c) => c.id).sort(), [server, client].sort());
    const running = (await cri.runtime('ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' }, label_selector: { c: 'server' } } })).containers as { id: string }[];
    assert.deepEqual(running.map((c) => c.id), [server]);
    const pods = (await cri.runtime('ListPodSandbox', { filter: { label_selector: pod.cfg.labels } })).items as { id: string; state: string }[];
    assert.deepEqual(pods.map((p) => [p.id, p.state]), [[pod.id, 'SANDBOX_READY']]);

    await cri.runtime('StopContainer', { container_id: client, timeout: 1 });
    await cri.runtime('StopContainer', { container_id: client, timeout: 1 });
    assert.equal((await status(client)).state, 'CONTAINER_EXITED');

    // removing the sandbox removes its containers too
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
    assert.equal((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id })).status.state, 'SANDBOX_NOTREADY');
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
    for (const id of [server, client]) {
      await assert.rejects(cri.runtime('ContainerStatus', { container_id: id }), (e) => grpcCode(e) === NOT_FOUND);
    }
    await assert.rejects(cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id }), (e) => grpcCode(e) === NOT_FOUND);
    await cri.runtime('StopContainer', { container_id: server, timeout: 0 });
    await cri.runtime('RemoveContainer', { container_id: server });
  });

  test('the pod\'s host port reaches its container; its DNS config is in every container\'s resolv.conf', async () => {
    const port = await freePort();
    const pod = await runPod(sandboxConfig({
      port_mappings: [{ protocol: 'TCP', container_port: 8080, host_port: port, host_ip: '' }],
      dns_config: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] },
    }));
    const web = await createContainer(pod, 'web', ['sh', '-c', 'mkdir -p /www && echo via-host-port > /www/index.html && exec httpd -f -p 8080 -h /www']);
    await cri.runtime('StartContainer', { container_id: web });
    let body = '';
    await waitFor(async () => {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
      return body !== '';
    }, 30_000, 'the host port to answer');
    assert.equal(body, 'via-host-port\n');
    const resolv = (await cri.runtime('ExecSync', { container_id: web, cmd: ['cat', '/etc/resolv.conf'], timeout: 10 })).stdout.toString();
    assert.match(resolv, /^nameserver 10\.96\.0\.10$/m);
    assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local$/m);
    assert.match(resolv, /^options ndots:5$/m);
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
    assert.equal(await fetch(`http://127.0.0.1:${port}/`).then(() => 'answered', () => 'refused'), 'refused');
  });

  test('security context: run-as user and groups, no_new_privs, seccomp RuntimeDefault vs none (unconfined)', async () => {
    const pod = await runPod();
    const make = async (name: string, sc: Record<string, unknown>) => (await cri.runtime('CreateContainer', {
      pod_sandbox_id: pod.id, sandbox_config: pod.cfg,
      config: { metadata: { name, attempt: 0 }, image: { image: 'busybox:latest' }, command: ['sleep', '300'], linux: { security_context: sc } },
    })).container_id as string;
    const confined = await make('confined', {
      run_as_user: { value: 1000 }, run_as_group: { value: 1000 }, supplemental_groups: [2000], no_new_privs: true, seccomp: { profile_type: 'RuntimeDefault' },
    });
    const plain = await make('plain', {});
    for (const id of [confined, plain]) await cri.runtime('StartContainer', { container_id: id });
    const run = async (id: string, cmd: string) => (await cri.runtime('ExecSync', { container_id: id, cmd: ['sh', '-c', cmd], timeout: 10 })).stdout.toString().trim();
    assert.equal(await run(confined, 'id -u; id -g; id -G'), '1000\n1000\n1000 2000');
    assert.match(await run(confined, 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'), /NoNewPrivs:\s+1\nSeccomp:\s+2/);
    assert.match(await run(plain, 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'), /NoNewPrivs:\s+0\nSeccomp:\s+0/);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
  });

  test('pods and their containers survive a daemon restart; stopped ones can still be removed', async () => {
    const pod = await runPod();
    const id = await createContainer(pod, 'sleeper', ['sleep', '3600']);
    await cri.runtime('StartContainer', { container_id: id });
    await d.restart();
    const pods = (await cri.runtime('ListPodSandbox', { filter: { id: pod.id } })).items as { id: string; metadata: { name: string; uid: string } }[];
    assert.equal(pods.length, 1);
    assert.deepEqual([pods[0]!.metadata.name, pods[0]!.metadata.uid], [pod.cfg.metadata.name, pod.cfg.metadata.uid]);
    const s = await status(id);
    assert.equal(s.metadata.name, 'sleeper');
    assert.deepEqual(s.labels, { c: 'sleeper' });
    assert.equal(s.log_path, join(pod.cfg.log_directory, 'sleeper/0.log'));
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
    await assert.rejects(cri.runtime('ContainerStatus', { container_id: id }), (e) => grpcCode(e) === NOT_FOUND);
  });

  test('after every pod is removed nothing is left: no namespace, mount, shim or bridge port', async () => {
    assert.deepEqual((await cri.runtime('ListPodSandbox', {})).items, []);
    assert.deepEqual((await cri.runtime('ListContainers', {})).containers, []);
    assert.deepEqual(d.netLeftovers().netns, []);
    const left = d.leftovers();
    assert.deepEqual(left.shims, []);
    assert.deepEqual(left.mounts.filter((m) => m.includes('/containers/')), []);
    // the bridge has no port left (each pod's veth was one)
    const brif = `/sys/class/net/${d.bridge}/brif`;
    const ports = existsSync(brif) ? readdirSync(brif) : [];
    assert.deepEqual(ports, []);
  });
});
