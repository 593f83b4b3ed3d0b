import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALWAYS_ALLOWED, CLONE_NAMESPACE_FLAGS, defaultSeccompProfile } from './seccomp-default.js';
import { containerSeccomp, parseKernelVersion, parseProfile, resolveProfile, seccompArch, type SpecSeccomp } from './seccomp.js';
import { DEFAULT_CAPABILITIES } from './capabilities.js';

const amd64 = { arch: 'amd64', kernel: { major: 6, minor: 1 }, capabilities: DEFAULT_CAPABILITIES };
const allowed = (s: SpecSeccomp | undefined, name: string) =>
  !!s?.syscalls?.some((r) => r.names.includes(name) && r.action === 'SCMP_ACT_ALLOW' && !r.args);
const rulesFor = (s: SpecSeccomp | undefined, name: string) => s?.syscalls?.filter((r) => r.names.includes(name)) ?? [];

test('the default profile denies with EPERM and lists amd64 with its 32-bit sub-architectures', () => {
  const s = resolveProfile(defaultSeccompProfile(), amd64)!;
  assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.defaultErrnoRet, 1);
  assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(resolveProfile(defaultSeccompProfile(), { ...amd64, arch: 'arm64' })!.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.equal(new Set(ALWAYS_ALLOWED).size, ALWAYS_ALLOWED.length, 'no duplicates in the allow-list');
  // no condition survives resolution
  for (const r of s.syscalls!) assert.deepEqual(Object.keys(r).filter((k) => k === 'includes' || k === 'excludes' || k === 'comment'), []);
});

test('default capabilities: namespaces, mounts, keyrings, modules and the clock stay out of reach', () => {
  const s = resolveProfile(defaultSeccompProfile(), amd64);
  for (const denied of ['mount', 'umount2', 'unshare', 'setns', 'add_key', 'keyctl', 'request_key', 'init_module', 'kexec_load',
    'settimeofday', 'reboot', 'syslog', 'bpf', 'perf_event_open', 'kcmp', 'open_by_handle_at', 'iopl', 'acct', 'userfaultfd']) {
    assert.equal(allowed(s, denied), false, denied);
  }
  for (const ok of ['read', 'openat', 'execve', 'chroot', 'arch_prctl', 'modify_ldt', 'ptrace', 'statx', 'epoll_wait']) {
    assert.equal(allowed(s, ok), true, ok);
  }
  assert.equal(allowed(s, 'cacheflush'), false, 'arm-only calls are not emitted on amd64');
});

test('clone may not create namespaces and clone3 is ENOSYS unless CAP_SYS_ADMIN', () => {
  const s = resolveProfile(defaultSeccompProfile(), amd64);
  assert.deepEqual(rulesFor(s, 'clone'), [{
    names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
  }]);
  assert.equal(CLONE_NAMESPACE_FLAGS, 2114060288);
  assert.deepEqual(rulesFor(s, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);

  const admin = resolveProfile(defaultSeccompProfile(), { ...amd64, capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'] });
  assert.ok(allowed(admin, 'clone') && allowed(admin, 'clone3') && allowed(admin, 'mount') && allowed(admin, 'unshare'));
  assert.equal(rulesFor(admin, 'clone3').some((r) => r.action === 'SCMP_ACT_ERRNO'), false);
  // s390 passes the flags in the second argument
  const s390 = resolveProfile(defaultSeccompProfile(), { ...amd64, arch: 's390x' });
  assert.equal(rulesFor(s390, 'clone')[0]!.args![0]!.index, 1);
});

test('each capability unlocks its own group', () => {
  const cases: [string, string[]][] = [
    ['CAP_SYS_PTRACE', ['kcmp', 'process_vm_readv', 'pidfd_getfd']], ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
    ['CAP_SYS_BOOT', ['reboot']], ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']], ['CAP_SYS_NICE', ['mbind', 'set_mempolicy']],
    ['CAP_SYS_PACCT', ['acct']], ['CAP_SYS_RAWIO', ['iopl', 'ioperm']], ['CAP_SYSLOG', ['syslog']], ['CAP_BPF', ['bpf']],
    ['CAP_PERFMON', ['perf_event_open']], ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']], ['CAP_SYS_TTY_CONFIG', ['vhangup']],
  ];
  for (const [cap, calls] of cases) {
    const s = resolveProfile(defaultSeccompProfile(), { ...amd64, capabilities: [...DEFAULT_CAPABILITIES, cap] });
    for (const c of calls) assert.ok(allowed(s, c), `${cap} → ${c}`);
  }
  const noChroot = resolveProfile(defaultSeccompProfile(), { ...amd64, capabilities: DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT') });
  assert.equal(allowed(noChroot, 'chroot'), false, '--cap-drop SYS_CHROOT takes chroot away');
});

test('personality only for the harmless personas; sockets of every family but AF_ALG and AF_VSOCK', () => {
  const s = resolveProfile(defaultSeccompProfile(), amd64);
  assert.deepEqual(rulesFor(s, 'personality').map((r) => r.args![0]!.value), [0, 8, 0x20000, 0x20008, 0xffffffff]);
  assert.deepEqual(rulesFor(s, 'socket').map((r) => [r.args![0]!.op, r.args![0]!.value]), [['SCMP_CMP_LT', 38], ['SCMP_CMP_EQ', 39], ['SCMP_CMP_GT', 40]]);
});

test('ptrace needs kernel 4.8 without CAP_SYS_PTRACE', () => {
  assert.equal(allowed(resolveProfile(defaultSeccompProfile(), { ...amd64, kernel: { major: 4, minor: 4 } }), 'ptrace'), false);
  assert.equal(allowed(resolveProfile(defaultSeccompProfile(), { ...amd64, kernel: { major: 4, minor: 8 } }), 'ptrace'), true);
  assert.deepEqual(parseKernelVersion('6.18.44-fc-v669'), { major: 6, minor: 18 });
  assert.equal(seccompArch('x64'), 'amd64');
});

test('privileged drops the profile; unconfined drops it; a custom profile applies even when privileged', () => {
  assert.equal(containerSeccomp({ kind: 'default' }, true, amd64), undefined);
  assert.equal(containerSeccomp({ kind: 'unconfined' }, false, amd64), undefined);
  const custom = JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO' }, { names: ['chmod'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_SYS_ADMIN'] } }],
  });
  const s = containerSeccomp({ kind: 'custom', json: custom }, true, amd64)!;
  assert.equal(s.defaultAction, 'SCMP_ACT_ALLOW');
  assert.deepEqual(s.syscalls, [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }], 'old `name` form accepted; the cap-conditional rule dropped');
  assert.equal(s.architectures, undefined);
});

test('bad custom profiles are refused with moby wording', () => {
  assert.throws(() => parseProfile('{not json'), /Decoding seccomp profile failed/);
  assert.throws(() => parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[]}]}'),
    /both 'architectures' and 'archMap'/);
  assert.throws(() => parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}'), /both 'name' and 'names'/);
  assert.throws(() => parseProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"]}]}'), /needs an action/);
  assert.equal(resolveProfile(parseProfile('{}'), amd64), undefined, 'an empty profile disables seccomp');
});
