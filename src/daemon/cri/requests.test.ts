import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerCreateRequest, namespaceModes, securityOptions } from './pod-containers.js';
import { sandboxCreateRequest, sandboxName } from './pod-sandboxes.js';
import { podShmOf } from './pod-shm.js';
import { shimGroupOf } from '../containers/runner.js';
import { containerState, matchesSelector, nanos } from './records.js';
import type { ContainerRecord } from '../containers/record.js';

test('a sandbox is a pause container with the pod\'s hostname, DNS and host ports (host_port 0 publishes nothing)', () => {
  const req = sandboxCreateRequest({
    metadata: { name: 'web', namespace: 'default', uid: 'u1', attempt: 2 }, hostname: 'web-0',
    dns_config: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
    port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '' }, { protocol: 'UDP', container_port: 53, host_port: 0 }],
  }, 'pause:1');
  assert.equal(req.Image, 'pause:1');
  assert.equal(req.Hostname, 'web-0');
  assert.equal(req.HostConfig?.NetworkMode, 'bridge');
  assert.deepEqual(req.HostConfig?.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.deepEqual([req.HostConfig?.Dns, req.HostConfig?.DnsSearch, req.HostConfig?.DnsOptions], [['10.96.0.10'], ['default.svc.cluster.local'], ['ndots:5']]);
  assert.equal(sandboxName({ name: 'web', namespace: 'default', uid: 'u1', attempt: 2 }), 'k8s_POD_web_default_u1_2');
  const host = sandboxCreateRequest({ linux: { security_context: { namespace_options: { network: 'NODE', pid: 'NODE', ipc: 'NODE' } } } }, 'pause:1');
  assert.deepEqual([host.HostConfig?.NetworkMode, host.HostConfig?.PidMode, host.HostConfig?.IpcMode], ['host', 'host', 'host']);
});

test('a container joins its sandbox; command is the entrypoint, args the cmd', () => {
  const req = containerCreateRequest({
    metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, command: ['sh', '-c'], args: ['echo hi'],
    envs: [{ key: 'A', value: '1' }], mounts: [{ container_path: '/data', host_path: '/srv/data', readonly: true }],
    linux: { resources: { memory_limit_in_bytes: '1048576', cpu_shares: '512' }, security_context: { run_as_user: { value: '1000' }, run_as_group: { value: '100' }, readonly_rootfs: true } },
  }, 'sb1');
  assert.deepEqual([req.Entrypoint, req.Cmd, req.Env, req.User], [['sh', '-c'], ['echo hi'], ['A=1'], '1000:100']);
  assert.deepEqual([req.HostConfig?.NetworkMode, req.HostConfig?.IpcMode, req.HostConfig?.PidMode], ['container:sb1', 'container:sb1', 'container:sb1']);
  assert.deepEqual(req.HostConfig?.Binds, ['/srv/data:/data:ro']);
  assert.deepEqual([req.HostConfig?.Memory, req.HostConfig?.CpuShares, req.HostConfig?.ReadonlyRootfs], [1048576, 512, true]);
  const imageDefaults = containerCreateRequest({ metadata: { name: 'x', attempt: 0 }, image: { image: 'busybox' } }, 'sb1');
  assert.equal(imageDefaults.Entrypoint, undefined);
  assert.equal(imageDefaults.Cmd, undefined);
});

test('security context: no seccomp profile is unconfined (the CRI\'s rule), RuntimeDefault the builtin one, Localhost the file\'s JSON', () => {
  assert.deepEqual(securityOptions({}), ['seccomp=unconfined']);
  assert.deepEqual(securityOptions({ seccomp: { profile_type: 'RuntimeDefault' } }), []);
  assert.deepEqual(securityOptions({ seccomp: { profile_type: 'Localhost', localhost_ref: '/p.json' } }, '{"defaultAction":"SCMP_ACT_ALLOW"}'), ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']);
  assert.deepEqual(securityOptions({ no_new_privs: true, seccomp: { profile_type: 'RuntimeDefault' } }), ['no-new-privileges:true']);
  assert.deepEqual(securityOptions({ privileged: true, seccomp: { profile_type: 'Localhost', localhost_ref: '/p.json' } }, '{}'), ['seccomp=unconfined']);
  const req = containerCreateRequest({
    metadata: { name: 'x', attempt: 0 }, image: { image: 'busybox' },
    linux: { security_context: { supplemental_groups: ['10', '20'], masked_paths: ['/proc/kcore'], readonly_paths: ['/proc/sys'] } },
  }, 's');
  assert.deepEqual([req.HostConfig?.GroupAdd, req.HostConfig?.MaskedPaths, req.HostConfig?.ReadonlyPaths], [['10', '20'], ['/proc/kcore'], ['/proc/sys']]);
});

test('the pod\'s PID and IPC choices become Docker modes', () => {
  assert.deepEqual(namespaceModes(undefined, 's'), { IpcMode: 'container:s', PidMode: 'container:s' });
  assert.deepEqual(namespaceModes({ pid: 'CONTAINER', ipc: 'POD' }, 's'), { IpcMode: 'container:s', PidMode: '' });
  assert.deepEqual(namespaceModes({ pid: 'NODE', ipc: 'NODE' }, 's'), { IpcMode: 'host', PidMode: 'host' });
  assert.deepEqual(namespaceModes({ pid: 'TARGET', target_id: 'c2' }, 's'), { IpcMode: 'container:s', PidMode: 'container:c2' });
});

test('record views: times in nanoseconds, states, label selectors', () => {
  assert.equal(nanos('2016-10-06T00:17:09.669794202Z'), '1475713029669794202');
  assert.equal(nanos('0001-01-01T00:00:00Z'), '0');
  const st = (Status: string) => containerState({ state: { Status } } as unknown as ContainerRecord);
  assert.deepEqual(['created', 'running', 'paused', 'exited', 'dead', 'removing'].map(st),
    ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN']);
  assert.ok(matchesSelector({ app: 'web' }, { app: 'web', tier: 'front' }));
  assert.ok(!matchesSelector({ app: 'web' }, { app: 'db' }));
  assert.ok(matchesSelector(undefined, {}));
});

test('the pod\'s cgroup parent and sysctls go to the sandbox; only namespaced sysctls, none of a namespace the pod shares with the node', () => {
  const req = sandboxCreateRequest({ linux: { cgroup_parent: '/kubepods/pod1', sysctls: { 'net.ipv4.ip_local_port_range': '20000 30000', 'kernel.shm_rmid_forced': '1' } } }, 'pause:1');
  assert.equal(req.HostConfig?.CgroupParent, '/kubepods/pod1');
  assert.deepEqual(req.HostConfig?.Sysctls, { 'net.ipv4.ip_local_port_range': '20000 30000', 'kernel.shm_rmid_forced': '1' });
  assert.throws(() => sandboxCreateRequest({ linux: { sysctls: { 'vm.swappiness': '1' } } }, 'p'), /sysctl 'vm.swappiness=1' is not allowed/);
  assert.throws(() => sandboxCreateRequest({ linux: { sysctls: { 'net.core.somaxconn': '1' }, security_context: { namespace_options: { network: 'NODE' } } } }, 'p'), /host's network namespace/);
  assert.throws(() => sandboxCreateRequest({ linux: { sysctls: { 'fs.mqueue.msg_max': '1' }, security_context: { namespace_options: { ipc: 'NODE' } } } }, 'p'), /host's IPC namespace/);
});

test('a container\'s devices are Docker\'s --device, its mounts\' propagation Docker\'s bind modes, its cgroup under the pod\'s', () => {
  const req = containerCreateRequest({
    metadata: { name: 'd', attempt: 0 }, image: { image: 'busybox' },
    devices: [{ host_path: '/dev/zero', container_path: '/dev/myzero', permissions: 'r' }, { host_path: '/dev/null' }],
    mounts: [
      { container_path: '/a', host_path: '/srv/a', propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
      { container_path: '/b', host_path: '/srv/b', readonly: true, propagation: 'PROPAGATION_BIDIRECTIONAL' },
      { container_path: '/c', host_path: '/srv/c', propagation: 'PROPAGATION_PRIVATE' },
    ],
  }, 'sb1', undefined, { cgroupParent: '/kubepods/pod1' });
  assert.deepEqual(req.HostConfig?.Devices, [
    { PathOnHost: '/dev/zero', PathInContainer: '/dev/myzero', CgroupPermissions: 'r' },
    { PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwm' },
  ]);
  assert.deepEqual(req.HostConfig?.Binds, ['/srv/a:/a:rslave', '/srv/b:/b:ro,rshared', '/srv/c:/c']);
  assert.equal(req.HostConfig?.CgroupParent, '/kubepods/pod1');
});

test('a pod\'s /dev/shm is bound into its sandbox and into its containers that share the pod\'s IPC namespace', () => {
  const sb = sandboxCreateRequest({}, 'pause:1', '/run/berth/cri-shm/ab/shm');
  assert.deepEqual(sb.HostConfig?.Binds, ['/run/berth/cri-shm/ab/shm:/dev/shm']);
  assert.equal(podShmOf(sb.HostConfig?.Binds), '/run/berth/cri-shm/ab/shm');
  const c = containerCreateRequest({ metadata: { name: 'a', attempt: 0 }, image: { image: 'busybox' } }, 'sb1', undefined, { shm: '/run/berth/cri-shm/ab/shm' });
  assert.deepEqual(c.HostConfig?.Binds, ['/run/berth/cri-shm/ab/shm:/dev/shm']);
  const hostIpc = containerCreateRequest({ metadata: { name: 'a', attempt: 0 }, image: { image: 'busybox' }, linux: { security_context: { namespace_options: { ipc: 'NODE' } } } }, 'sb1', undefined, { shm: '/x/shm' });
  assert.deepEqual(hostIpc.HostConfig?.Binds, []);
});

test('a CRI container is grouped into its sandbox\'s shim; a Docker container, or one on another network, is not', () => {
  const sb = 'a'.repeat(64);
  assert.equal(shimGroupOf({ cri: {}, hostConfig: { NetworkMode: `container:${sb}` } } as ContainerRecord), sb);
  assert.equal(shimGroupOf({ hostConfig: { NetworkMode: `container:${sb}` } } as ContainerRecord), undefined);
  assert.equal(shimGroupOf({ cri: {}, hostConfig: { NetworkMode: 'bridge' } } as ContainerRecord), undefined);
});
