/**
 * What critest (cri-tools v1.32.0) found wrong in the CRI endpoint, each
 * case through berth's own client: a container of a host-network pod,
 * RunAsGroup without a user, a privileged container under a seccomp profile,
 * the pause process seen from a pod's shared PID namespace (see docs/cri.md,
 * "critest"). The daemon makes its default pause image, as under critest.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { CriClient, grpcCode } from '../support/cri-client.js';

const INVALID_ARGUMENT = 3;

describe('CRI endpoint: critest findings', () => {
  let d: TestDaemon;
  let cri: CriClient;
  let dir: string;
  let pods = 0;

  const sandboxConfig = (o: Record<string, unknown> = {}) => {
    pods++;
    return {
      metadata: { name: `ct${pods}`, namespace: 'default', uid: `ct-${pods}-${process.pid}`, attempt: 0 },
      hostname: `ct${pods}`, log_directory: join(dir, 'logs', `ct${pods}`), ...o,
    };
  };
  type Pod = { id: string; cfg: ReturnType<typeof sandboxConfig> };
  const runPod = async (cfg = sandboxConfig()): Promise<Pod> => ({ id: (await cri.runtime('RunPodSandbox', { config: cfg })).pod_sandbox_id as string, cfg });
  const removePod = async (pod: Pod) => {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
  };
  const createContainer = (pod: Pod, name: string, config: Record<string, unknown>) => cri.runtime('CreateContainer', {
    pod_sandbox_id: pod.id, sandbox_config: pod.cfg,
    config: { metadata: { name, attempt: 0 }, image: { image: 'busybox:latest' }, log_path: `${name}.log`, ...config },
  }).then((r) => r.container_id as string);
  const exec = async (id: string, cmd: string[]) => {
    const r = await cri.runtime('ExecSync', { container_id: id, cmd, timeout: 10 });
    return { code: r.exit_code as number, out: Buffer.from(r.stdout ?? '').toString() };
  };

  before(async () => {
    dir = mkdtempSync('/tmp/berth-cri-critest-');
    d = await TestDaemon.start({ extraArgs: ['--cri-socket', join(dir, 'cri.sock')] });
    await d.busybox();
    cri = new CriClient(join(dir, 'cri.sock'));
  });
  after(async () => {
    cri?.close();
    await d?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a container of a host-network pod starts in the node\'s network namespace', async () => {
    const pod = await runPod(sandboxConfig({ linux: { security_context: { namespace_options: { network: 'NODE' } } } }));
    try {
      const id = await createContainer(pod, 'hostnet', { command: ['sleep', '1000'] });
      await cri.runtime('StartContainer', { container_id: id });
      const r = await exec(id, ['hostname']);
      assert.equal(r.out.trim(), hostname());
      const links = await exec(id, ['ip', '-o', 'link']);
      assert.match(links.out, new RegExp(`: ${d.bridge}[:@]`), 'the node\'s bridge is visible');
    } finally {
      await removePod(pod);
    }
  });

  test('RunAsGroup without RunAsUser is refused with InvalidArgument', async () => {
    const pod = await runPod();
    try {
      await assert.rejects(createContainer(pod, 'group-only', { command: ['id'], linux: { security_context: { run_as_group: { value: '1000' } } } }), (e) => {
        assert.equal(grpcCode(e), INVALID_ARGUMENT);
        assert.match((e as Error).message, /user group is specified without user or username/);
        return true;
      });
    } finally {
      await removePod(pod);
    }
  });

  test('a container sharing the pod\'s PID namespace sees no `sleep` of the pause process', async () => {
    const pod = await runPod();
    try {
      const id = await createContainer(pod, 'pidshare', { command: ['tail', '-f', '/dev/null'] });
      await cri.runtime('StartContainer', { container_id: id });
      const r = await exec(id, ['sh', '-c', 'cat /proc/[0-9]*/comm']);
      const names = r.out.split('\n').filter(Boolean);
      assert.ok(names.includes('tail'), `own process listed: ${names.join(',')}`);
      assert.ok(names.includes('sh') || names.includes('busybox'), `the pause process is in the namespace: ${names.join(',')}`);
      assert.ok(!names.includes('sleep'), `no sleep: ${names.join(',')}`);
    } finally {
      await removePod(pod);
    }
  });

  test('a privileged container ignores a seccomp profile that forbids sethostname', async () => {
    const profile = join(dir, 'no-sethostname.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO' }] }));
    const pod = await runPod();
    try {
      const id = await createContainer(pod, 'priv-seccomp', {
        command: ['tail', '-f', '/dev/null'],
        linux: { security_context: { privileged: true, seccomp: { profile_type: 'Localhost', localhost_ref: profile } } },
      });
      await cri.runtime('StartContainer', { container_id: id });
      const r = await exec(id, ['hostname', 'ANewHostName']);
      assert.equal(r.code, 0);
      assert.equal((await exec(id, ['hostname'])).out.trim(), 'ANewHostName');
    } finally {
      await removePod(pod);
    }
  });
});
