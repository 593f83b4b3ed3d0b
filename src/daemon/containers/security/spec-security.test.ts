/** The isolation parts of buildSpec, as data: what Docker writes into config.json for each flag. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostConfig } from '../../../api/types/index.js';
import { capabilities, capabilitiesInMask, DEFAULT_CAPABILITIES } from './capabilities.js';
import { newContainerRecord } from '../create.js';
import { parseSecurityOptions, validateIsolation } from './security-opts.js';
import { buildSpec, DEFAULT_MASKED_PATHS, type SecurityInputs } from '../spec.js';

const id = 'c'.repeat(64);
const security: SecurityInputs = { arch: 'amd64', kernel: { major: 6, minor: 1 }, initPath: '/usr/bin/tini-static' };

function spec(hc: HostConfig, opts: { cgroupVersion?: 1 | 2; security?: SecurityInputs; uid?: number } = {}) {
  const cgroupVersion = opts.cgroupVersion ?? 1;
  const rec = newContainerRecord({ id, name: 'x', request: { Image: 'busybox', Cmd: ['sh', '-c', 'true'], HostConfig: hc }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion });
  return buildSpec({
    rec, user: { uid: opts.uid ?? 0, gid: 0, additionalGids: [], home: '/' }, rootfs: '/merged',
    files: { hostname: '/h', hosts: '/hs', resolvConf: '/r' }, cgroupsPath: `/berth/${id}`, cgroupVersion, security: opts.security ?? security,
  });
}
const mount = (s: ReturnType<typeof spec>, dest: string) => s.mounts.find((m) => m.destination === dest);

function buildSpecWith(extra: { security: SecurityInputs; netnsPath: string }) {
  const rec = newContainerRecord({ id, name: 'x', request: { Image: 'busybox', Cmd: ['true'] }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 1 });
  return buildSpec({
    rec, user: { uid: 0, gid: 0, additionalGids: [], home: '/' }, rootfs: '/merged', files: { hostname: '/h', hosts: '/hs', resolvConf: '/r' },
    cgroupsPath: `/berth/${id}`, cgroupVersion: 1, ...extra,
  });
}

test('defaults: docker capabilities, seccomp, masked and read-only paths, read-only /sys and cgroups', () => {
  const s = spec({});
  assert.deepEqual(s.process.capabilities!.bounding, DEFAULT_CAPABILITIES);
  assert.deepEqual(s.process.capabilities!.effective, DEFAULT_CAPABILITIES);
  assert.equal((s.linux.seccomp as { defaultAction: string }).defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(s.linux.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.ok(s.linux.readonlyPaths!.includes('/proc/sys'));
  assert.ok(mount(s, '/sys')!.options!.includes('ro'));
  assert.ok(mount(s, '/sys/fs/cgroup')!.options!.includes('ro'));
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc'], 'cgroup v1: host cgroupns by default');
  assert.equal(s.process.noNewPrivileges, undefined);
  assert.deepEqual(s.linux.resources!.devices![0], { allow: false, access: 'rwm' });
});

test('a non-root user only gets the bounding set', () => {
  const s = spec({}, { uid: 1000 });
  assert.deepEqual(Object.keys(s.process.capabilities!), ['bounding']);
});

test('--privileged lifts masks, seccomp, read-only /sys and cgroups, and allows every device', () => {
  const s = spec({ Privileged: true }, { security: { ...security, devices: [{ path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }] } });
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.linux.maskedPaths, undefined);
  assert.equal(s.linux.readonlyPaths, undefined);
  assert.ok(mount(s, '/sys')!.options!.includes('rw'));
  assert.ok(mount(s, '/sys/fs/cgroup')!.options!.includes('rw'));
  assert.deepEqual(s.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
  assert.deepEqual(s.linux.devices, [{ path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }]);
  assert.ok(s.process.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
});

test('--privileged grants only the capabilities the daemon holds', () => {
  const available = capabilitiesInMask('000001fffeffffff');
  assert.equal(available.includes('CAP_SYS_RESOURCE'), false);
  assert.equal(available.includes('CAP_CHECKPOINT_RESTORE'), true);
  const s = spec({ Privileged: true }, { security: { ...security, availableCapabilities: available } });
  assert.equal(s.process.capabilities!.bounding!.includes('CAP_SYS_RESOURCE'), false);
  assert.equal(s.process.capabilities!.bounding!.length, 40);
});

test('--cap-add / --cap-drop follow moby: ALL, names without CAP_, drop then add', () => {
  assert.deepEqual(capabilities(['net_admin'], ['CHOWN'], false), [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN'), 'CAP_NET_ADMIN']);
  assert.deepEqual(capabilities(['SYS_TIME'], ['ALL'], false), ['CAP_SYS_TIME']);
  assert.equal(capabilities(['ALL'], ['NET_RAW'], false).includes('CAP_NET_RAW'), false);
  assert.ok(capabilities(['ALL'], ['NET_RAW'], false).includes('CAP_SYS_ADMIN'));
  const s = spec({ CapAdd: ['SYS_ADMIN'] });
  const clone3 = (s.linux.seccomp as { syscalls: { names: string[]; action: string }[] }).syscalls.filter((r) => r.names.includes('clone3'));
  assert.deepEqual(clone3.map((r) => r.action), ['SCMP_ACT_ALLOW'], 'the seccomp profile follows the capabilities');
});

test('security options: no-new-privileges, seccomp=unconfined, bad entries', () => {
  assert.equal(spec({ SecurityOpt: ['no-new-privileges'] }).process.noNewPrivileges, true);
  assert.equal(spec({ SecurityOpt: ['no-new-privileges=true'] }).process.noNewPrivileges, true);
  assert.equal(spec({ SecurityOpt: ['no-new-privileges:false'] }).process.noNewPrivileges, undefined);
  assert.equal(spec({ SecurityOpt: ['seccomp=unconfined'] }).linux.seccomp, undefined);
  assert.equal(parseSecurityOptions(['apparmor=unconfined', 'label=disable']).apparmorProfile, 'unconfined');
  assert.throws(() => validateIsolation({ SecurityOpt: ['bogus'] }), /invalid --security-opt 1: "bogus"/);
  assert.throws(() => validateIsolation({ SecurityOpt: ['bogus=1'] }), /invalid --security-opt 2: "bogus=1"/);
  assert.throws(() => validateIsolation({ SecurityOpt: ['no-new-privileges=maybe'] }), /invalid --security-opt 2/);
  assert.throws(() => validateIsolation({ SecurityOpt: ['seccomp={"defaultAction":'] }), /Decoding seccomp profile failed/);
  assert.throws(() => validateIsolation({ CapAdd: ['CAP_FLY'] }), /invalid CapAdd: unknown capability: "CAP_FLY"/);
  assert.throws(() => validateIsolation({ OomScoreAdj: 1001 }), /range for oom score adj is \[-1000, 1000\]/);
  assert.throws(() => validateIsolation({ CgroupnsMode: 'shared' }), /invalid cgroup namespace mode: shared/);
});

test('--read-only: root and system mounts read-only, /dev, /proc, /dev/shm and the network files writable', () => {
  const s = spec({ ReadonlyRootfs: true });
  assert.equal(s.root.readonly, true);
  assert.ok(mount(s, '/sys/fs/cgroup')!.options!.includes('ro'));
  for (const d of ['/proc', '/dev', '/dev/shm', '/dev/mqueue', '/dev/pts']) assert.equal(mount(s, d)!.options!.includes('ro'), false, d);
  assert.deepEqual(mount(s, '/etc/hosts')!.options, ['rbind', 'rprivate']);
});

test('--init runs docker-init (tini) as pid 1 from a read-only bind', () => {
  const s = spec({ Init: true });
  assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sh', '-c', 'true']);
  assert.deepEqual(mount(s, '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] });
  assert.deepEqual(spec({ Init: true, PidMode: 'host' }).process.args, ['sh', '-c', 'true'], 'no init in the host pid namespace');
  assert.throws(() => spec({ Init: true }, { security: { arch: 'amd64', kernel: { major: 6, minor: 1 } } }), /docker-init binary not found/);
});

test('resources: memory, cpus, shares, pids, ulimits, shm, sysctls, device rules', () => {
  const s = spec({
    Memory: 32 << 20, NanoCpus: 1.5e9, CpuShares: 512, PidsLimit: 20, ShmSize: 1 << 20, Sysctls: { 'net.ipv4.ip_forward': '1' },
    Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }], DeviceCgroupRules: ['c 42:* rmw'],
  });
  const r = s.linux.resources!;
  assert.deepEqual(r.memory, { limit: 32 << 20, swap: 64 << 20 });
  assert.deepEqual(r.cpu, { period: 100000, quota: 150000, shares: 512 });
  assert.deepEqual(r.pids, { limit: 20 });
  assert.deepEqual(r.devices!.at(-1), { allow: true, type: 'c', major: 42, access: 'rmw' });
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 200, soft: 100 }]);
  assert.ok(mount(s, '/dev/shm')!.options!.includes(`size=${1 << 20}`));
  assert.equal(s.linux.sysctl!['net.ipv4.ip_forward'], '1');
  assert.equal(s.linux.sysctl!['net.ipv4.ping_group_range'], '0 2147483647');
});

test('--device adds the node and its cgroup rule', () => {
  const s = spec({}, { security: { ...security, devices: [{ path: '/dev/xnull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0, access: 'r' }] } });
  assert.deepEqual(s.linux.devices, [{ path: '/dev/xnull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }]);
  assert.deepEqual(s.linux.resources!.devices!.at(-1), { allow: true, type: 'c', major: 1, minor: 3, access: 'r' });
});

test('cgroup v2: private cgroupns by default, a cgroup2 mount', () => {
  const s = spec({}, { cgroupVersion: 2 });
  assert.ok(s.linux.namespaces.some((n) => n.type === 'cgroup'));
  assert.equal(mount(s, '/sys/fs/cgroup')!.type, 'cgroup2');
  assert.equal(spec({ CgroupnsMode: 'host' }, { cgroupVersion: 2 }).linux.namespaces.some((n) => n.type === 'cgroup'), false);
  assert.ok(spec({ CgroupnsMode: 'private' }, { cgroupVersion: 1 }).linux.namespaces.some((n) => n.type === 'cgroup'));
});

test('userns-remap: a user namespace with the maps, writable cgroups, no ping sysctl; --userns=host opts out', () => {
  const idMap = { uids: [{ containerID: 0, hostID: 100000, size: 65536 }], gids: [{ containerID: 0, hostID: 100000, size: 65536 }] };
  const s = spec({}, { security: { ...security, idMap } });
  assert.ok(s.linux.namespaces.some((n) => n.type === 'user'));
  assert.deepEqual(s.linux.uidMappings, idMap.uids);
  assert.deepEqual(s.linux.gidMappings, idMap.gids);
  assert.ok(mount(s, '/sys/fs/cgroup')!.options!.includes('rw'));
  assert.equal(s.linux.sysctl!['net.ipv4.ping_group_range'], undefined);
  const withNetns = buildSpecWith({ security: { ...security, idMap }, netnsPath: '/run/berth/netns/abc' });
  assert.deepEqual(withNetns.linux.namespaces.find((n) => n.type === 'user'), { type: 'user', path: '/run/berth/netns/abc.user' },
    'the user namespace the daemon made with the network namespace');
  assert.deepEqual(withNetns.linux.uidMappings, idMap.uids);
  const joined = buildSpecWith({ security: { ...security, idMap }, netnsPath: '/proc/42/ns/net' });
  assert.deepEqual(joined.linux.namespaces.find((n) => n.type === 'user'), { type: 'user', path: '/proc/42/ns/user' }, '--network container:X joins X\'s user namespace');
  const host = spec({ UsernsMode: 'host' }, { security: { ...security, idMap } });
  assert.equal(host.linux.namespaces.some((n) => n.type === 'user'), false);
  assert.equal(host.linux.uidMappings, undefined);
});

test('--network container:X sets no default net sysctls: the namespace keeps what its owner set (a pod\'s sysctls)', () => {
  const joined = spec({ NetworkMode: 'container:abc' });
  assert.equal(joined.linux.sysctl?.['net.ipv4.ip_unprivileged_port_start'], undefined);
  assert.equal(joined.linux.sysctl?.['net.ipv4.ping_group_range'], undefined);
  assert.equal(spec({}).linux.sysctl!['net.ipv4.ip_unprivileged_port_start'], '0');
});

test('bind propagation: an rshared bind makes the root shared, an rslave one slave (moby\'s WithMounts), none leaves runc\'s default', () => {
  const withMounts = (opts: string[][]) => {
    const rec = newContainerRecord({ id, name: 'x', request: { Image: 'busybox', Cmd: ['true'] }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 1 });
    return buildSpec({
      rec, user: { uid: 0, gid: 0, additionalGids: [], home: '/' }, rootfs: '/merged', files: { hostname: '/h', hosts: '/hs', resolvConf: '/r' },
      cgroupsPath: `/berth/${id}`, cgroupVersion: 1, userMounts: opts.map((o, i) => ({ destination: `/m${i}`, type: 'bind', source: `/s${i}`, options: ['rbind', 'rw', ...o] })),
    });
  };
  assert.equal(withMounts([['rslave'], ['rshared']]).linux.rootfsPropagation, 'shared');
  assert.equal(withMounts([['rprivate'], ['rslave']]).linux.rootfsPropagation, 'slave');
  assert.equal(withMounts([['rprivate']]).linux.rootfsPropagation, undefined);
});
