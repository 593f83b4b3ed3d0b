/**
 * berth's default seccomp profile, in Docker's profile format: an allow-list
 * (everything else fails with EPERM) with the same rules as moby's default
 * profile (profiles/seccomp/default.json): syscalls every container may use,
 * syscalls a capability unlocks, per-architecture extras, `clone` without
 * namespace flags, `clone3` answered with ENOSYS so libc falls back to clone,
 * `personality` limited to the harmless personas, and sockets of every family
 * but AF_ALG (38) and AF_VSOCK (40).
 *
 * The allow-list is grouped by what the calls do; names unknown to the
 * host's libseccomp (newer or other-arch calls) are skipped by runc.
 */
import type { SeccompProfile, ProfileRule } from './seccomp.js';

const EPERM = 1;
const ENOSYS = 38;

/** clone(2) flags that create namespaces: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x02000000 + 0x00020000 + 0x04000000 + 0x08000000 + 0x10000000 + 0x20000000 + 0x40000000;

const FILES = [
  'access', 'faccessat', 'faccessat2', 'chdir', 'fchdir', 'getcwd', 'umask',
  'chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32',
  'creat', 'open', 'openat', 'openat2', 'close', 'close_range', 'name_to_handle_at',
  'mkdir', 'mkdirat', 'mknod', 'mknodat', 'rmdir', 'rename', 'renameat', 'renameat2',
  'link', 'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat', 'readlink', 'readlinkat',
  'truncate', 'truncate64', 'ftruncate', 'ftruncate64', 'fallocate',
  'utime', 'utimes', 'utimensat', 'utimensat_time64', 'futimesat',
];

const FILE_STATUS = [
  'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'fstatat64', 'newfstatat', 'statx',
  'statfs', 'statfs64', 'fstatfs', 'fstatfs64', 'getdents', 'getdents64', 'statmount', 'listmount',
];

const FILE_IO = [
  'read', 'readv', 'pread64', 'preadv', 'preadv2', 'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2',
  'lseek', '_llseek', 'sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice', 'copy_file_range', 'readahead',
  'fadvise64', 'fadvise64_64', 'sync', 'syncfs', 'fsync', 'fdatasync', 'sync_file_range', 'cachestat',
  'flock', 'fcntl', 'fcntl64', 'ioctl', 'dup', 'dup2', 'dup3', 'pipe', 'pipe2',
];

const XATTRS = [
  'getxattr', 'lgetxattr', 'fgetxattr', 'getxattrat', 'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat',
  'listxattr', 'llistxattr', 'flistxattr', 'listxattrat', 'removexattr', 'lremovexattr', 'fremovexattr', 'removexattrat',
];

const WAITING_FOR_EVENTS = [
  'select', '_newselect', 'pselect6', 'pselect6_time64', 'poll', 'ppoll', 'ppoll_time64',
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait', 'epoll_pwait2',
  'eventfd', 'eventfd2', 'signalfd', 'signalfd4',
  'timerfd_create', 'timerfd_settime', 'timerfd_settime64', 'timerfd_gettime', 'timerfd_gettime64',
  'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark',
  'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64',
];

const MEMORY = [
  'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'remap_file_pages',
  'mlock', 'mlock2', 'mlockall', 'munlock', 'munlockall', 'membarrier', 'memfd_create', 'memfd_secret',
  'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'map_shadow_stack', 'mseal',
];

const PROCESSES = [
  'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid',
  'getpid', 'getppid', 'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid',
  'prctl', 'set_tid_address', 'set_robust_list', 'get_robust_list', 'rseq', 'restart_syscall',
  'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'uretprobe', 'getcpu', 'riscv_hwprobe',
  'capget', 'capset', 'seccomp', 'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self',
  'futex', 'futex_time64', 'futex_requeue', 'futex_wait', 'futex_wake', 'futex_waitv', 'set_thread_area', 'get_thread_area',
];

const SIGNALS = [
  'kill', 'tkill', 'tgkill', 'pause', 'alarm', 'sigaltstack', 'sigprocmask', 'sigreturn',
  'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
  'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo',
];

const CREDENTIALS = [
  'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32',
  'getresuid', 'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32',
  'setuid', 'setuid32', 'setgid', 'setgid32', 'setreuid', 'setreuid32', 'setregid', 'setregid32',
  'setresuid', 'setresuid32', 'setresgid', 'setresgid32', 'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32',
  'setgroups', 'setgroups32',
];

const LIMITS_AND_SCHEDULING = [
  'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64', 'getrusage', 'getpriority', 'setpriority', 'ioprio_get', 'ioprio_set',
  'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr', 'sched_getparam', 'sched_setparam',
  'sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_yield',
];

const TIME = [
  'time', 'times', 'gettimeofday', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
  'clock_nanosleep', 'clock_nanosleep_time64', 'nanosleep', 'adjtimex', 'clock_adjtime', 'clock_adjtime64',
  'getitimer', 'setitimer', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64',
  'timer_settime', 'timer_settime64',
];

/** socket(2) itself is filtered by family below. */
const SOCKETS = [
  'socketcall', 'socketpair', 'bind', 'connect', 'listen', 'accept', 'accept4', 'getsockname', 'getpeername',
  'getsockopt', 'setsockopt', 'shutdown', 'send', 'sendto', 'sendmsg', 'sendmmsg',
  'recv', 'recvfrom', 'recvmsg', 'recvmmsg', 'recvmmsg_time64',
];

const SYSV_AND_POSIX_IPC = [
  'ipc', 'msgget', 'msgctl', 'msgrcv', 'msgsnd', 'semget', 'semctl', 'semop', 'semtimedop', 'semtimedop_time64',
  'shmget', 'shmctl', 'shmat', 'shmdt', 'mq_open', 'mq_unlink', 'mq_getsetattr', 'mq_notify',
  'mq_timedsend', 'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64',
];

const SYSTEM_INFO = ['uname', 'sysinfo', 'getrandom'];

/** Syscalls every container may make, whatever its capabilities. */
export const ALWAYS_ALLOWED: readonly string[] = [
  ...FILES, ...FILE_STATUS, ...FILE_IO, ...XATTRS, ...WAITING_FOR_EVENTS, ...MEMORY, ...PROCESSES, ...SIGNALS,
  ...CREDENTIALS, ...LIMITS_AND_SCHEDULING, ...TIME, ...SOCKETS, ...SYSV_AND_POSIX_IPC, ...SYSTEM_INFO,
];

const allow = (names: string[], extra: Omit<ProfileRule, 'names' | 'action'> = {}): ProfileRule => ({ names, action: 'SCMP_ACT_ALLOW', ...extra });
const withCap = (cap: string, names: string[]): ProfileRule => allow(names, { includes: { caps: [cap] } });
const onArches = (arches: string[], names: string[]): ProfileRule => allow(names, { includes: { arches } });
const argEquals = (name: string, value: number): ProfileRule => allow([name], { args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] });

/** Personas a container may switch to: Linux, 32-bit Linux, UNAME26 of either, and the query value. */
const PERSONAS = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const AF_ALG = 38;
const AF_VSOCK = 40;

export function defaultSeccompProfile(): SeccompProfile {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
      { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: [] },
      { architecture: 'SCMP_ARCH_LOONGARCH64', subArchitectures: [] },
    ],
    syscalls: [
      allow([...ALWAYS_ALLOWED]),
      // since 4.8 ptrace can no longer be used to bypass seccomp, so it is safe without CAP_SYS_PTRACE
      allow(['process_vm_readv', 'process_vm_writev', 'ptrace'], { includes: { minKernel: '4.8' } }),
      allow(['socket'], { args: [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }] }),
      allow(['socket'], { args: [{ index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }] }),
      allow(['socket'], { args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }] }),
      ...PERSONAS.map((p) => argEquals('personality', p)),
      onArches(['ppc64le'], ['sync_file_range2', 'swapcontext']),
      onArches(['arm', 'arm64'], ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls']),
      onArches(['amd64', 'x32'], ['arch_prctl']),
      onArches(['amd64', 'x32', 'x86'], ['modify_ldt']),
      onArches(['s390', 's390x'], ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr']),
      onArches(['riscv64'], ['riscv_flush_icache']),
      withCap('CAP_DAC_READ_SEARCH', ['open_by_handle_at']),
      withCap('CAP_SYS_ADMIN', [
        'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
        'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount',
        'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns',
        'syslog', 'umount', 'umount2', 'unshare',
      ]),
      // without CAP_SYS_ADMIN, clone may not create namespaces (the flags are its first argument, the second on s390)
      allow(['clone'], {
        args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
        excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
      }),
      allow(['clone'], {
        args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
        includes: { arches: ['s390', 's390x'] },
        excludes: { caps: ['CAP_SYS_ADMIN'] },
      }),
      // clone3's flags sit behind a pointer seccomp cannot read: ENOSYS makes libc fall back to clone
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
      withCap('CAP_SYS_BOOT', ['reboot']),
      withCap('CAP_SYS_CHROOT', ['chroot']),
      withCap('CAP_SYS_MODULE', ['delete_module', 'init_module', 'finit_module']),
      withCap('CAP_SYS_PACCT', ['acct']),
      withCap('CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace']),
      withCap('CAP_SYS_RAWIO', ['iopl', 'ioperm']),
      withCap('CAP_SYS_TIME', ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']),
      withCap('CAP_SYS_TTY_CONFIG', ['vhangup']),
      withCap('CAP_SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']),
      withCap('CAP_SYSLOG', ['syslog']),
      withCap('CAP_BPF', ['bpf']),
      withCap('CAP_PERFMON', ['perf_event_open']),
    ],
  };
}
