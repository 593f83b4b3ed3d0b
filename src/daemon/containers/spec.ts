/**
 * The OCI runtime spec (config.json) of a container, with Docker's defaults
 * (shared/reference/oci-notes.md §4). A pure function of the container
 * record and a few facts gathered at start; no I/O.
 */
import type { RuntimeSpec, SpecMount, SpecNamespace, SpecResources } from '../../oci/runtime-spec.js';
import type { ContainerRecord } from './record.js';
import type { ResolvedUser } from './user.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability of this kernel generation, for --privileged and `--cap-add ALL`. */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface SpecInputs {
  rec: ContainerRecord;
  user: ResolvedUser;
  /** Absolute path of the mounted rootfs. */
  rootfs: string;
  /** Host files bind-mounted over /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  files: { hostname: string; hosts: string; resolvConf: string };
  cgroupsPath: string;
  cgroupVersion: 1 | 2;
  /** A network namespace prepared by the daemon; absent = a new, empty one (or host). */
  netnsPath?: string;
  /** Volumes, binds and tmpfs mounts, already resolved, in the user's order. */
  userMounts?: SpecMount[];
  seccomp?: unknown;
}

function normaliseCap(c: string): string {
  const up = c.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

export function capabilities(capAdd: string[] | null | undefined, capDrop: string[] | null | undefined, privileged: boolean): string[] {
  if (privileged) return [...ALL_CAPABILITIES];
  const add = (capAdd ?? []).map(normaliseCap);
  const drop = (capDrop ?? []).map(normaliseCap);
  let caps = add.includes('CAP_ALL') ? [...ALL_CAPABILITIES] : [...DEFAULT_CAPABILITIES];
  if (drop.includes('CAP_ALL')) caps = [];
  for (const c of add) if (c !== 'CAP_ALL' && !caps.includes(c)) caps.push(c);
  return caps.filter((c) => !drop.includes(c) || add.includes(c));
}

/** docker's env merge: defaults first, then the container's values replace same keys; `KEY` alone unsets. */
export function processEnv(hostname: string, tty: boolean, env: string[] | null): string[] {
  const out = [DEFAULT_PATH, `HOSTNAME=${hostname}`];
  if (tty) out.push('TERM=xterm');
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    const key = eq === -1 ? e : e.slice(0, eq);
    const i = out.findIndex((o) => o.slice(0, o.indexOf('=')) === key);
    if (eq === -1) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

function defaultMounts(hc: ContainerRecord['hostConfig'], cgroupVersion: 1 | 2): SpecMount[] {
  const privileged = !!hc.Privileged;
  const shm = hc.ShmSize || DEFAULT_SHM_SIZE;
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: cgroupVersion === 2 ? 'cgroup2' : 'cgroup',
      source: 'cgroup',
      options: [privileged ? 'rw' : 'ro', 'nosuid', 'noexec', 'nodev'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`] },
  ];
}

export function resources(hc: ContainerRecord['hostConfig']): SpecResources {
  const r: SpecResources = {
    devices: hc.Privileged ? [{ allow: true, access: 'rwm' }] : [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ],
  };
  const memory: NonNullable<SpecResources['memory']> = {};
  if (hc.Memory) {
    memory.limit = hc.Memory;
    // unset swap with a memory limit means "as much swap as memory" (docker's rule)
    memory.swap = hc.MemorySwap ? hc.MemorySwap : hc.Memory * 2;
  } else if (hc.MemorySwap) memory.swap = hc.MemorySwap;
  if (hc.MemoryReservation) memory.reservation = hc.MemoryReservation;
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness >= 0) memory.swappiness = hc.MemorySwappiness;
  if (hc.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) r.memory = memory;
  const cpu: NonNullable<SpecResources['cpu']> = {};
  if (hc.NanoCpus) {
    cpu.period = 100000;
    cpu.quota = Math.round((hc.NanoCpus * 100000) / 1e9);
  }
  if (hc.CpuShares) cpu.shares = hc.CpuShares;
  if (hc.CpuQuota) cpu.quota = hc.CpuQuota;
  if (hc.CpuPeriod) cpu.period = hc.CpuPeriod;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (hc.PidsLimit && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };
  if (hc.BlkioWeight) r.blockIO = { weight: hc.BlkioWeight };
  return r;
}

export function buildSpec(i: SpecInputs): RuntimeSpec {
  const { rec } = i;
  const c = rec.config;
  const hc = rec.hostConfig;
  const privileged = !!hc.Privileged;
  const caps = capabilities(hc.CapAdd, hc.CapDrop, privileged);
  const root = i.user.uid === 0;
  const securityOpts = hc.SecurityOpt ?? [];
  const noNewPrivileges = securityOpts.some((o) => o === 'no-new-privileges' || o === 'no-new-privileges:true' || o === 'no-new-privileges=true');

  const netMode = hc.NetworkMode ?? 'default';
  const namespaces: SpecNamespace[] = [{ type: 'mount' }];
  if (netMode !== 'host') namespaces.push(i.netnsPath ? { type: 'network', path: i.netnsPath } : { type: 'network' });
  if (hc.UTSMode !== 'host') namespaces.push({ type: 'uts' });
  if (hc.PidMode !== 'host') namespaces.push({ type: 'pid' });
  if (hc.IpcMode !== 'host') namespaces.push({ type: 'ipc' });
  if (hc.CgroupnsMode === 'private' || (i.cgroupVersion === 2 && hc.CgroupnsMode !== 'host')) namespaces.push({ type: 'cgroup' });

  const userMounts = i.userMounts ?? [];
  const covered = new Set(userMounts.map((m) => m.destination));
  const networkFiles: SpecMount[] = [
    { destination: '/etc/resolv.conf', type: 'bind', source: i.files.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: i.files.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: i.files.hosts, options: ['rbind', 'rprivate'] },
  ].filter((m) => !covered.has(m.destination));

  const spec: RuntimeSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: c.Tty,
      user: { uid: i.user.uid, gid: i.user.gid, additionalGids: i.user.additionalGids },
      args: [rec.path, ...rec.args],
      env: processEnv(c.Hostname, c.Tty, c.Env),
      cwd: c.WorkingDir || '/',
      capabilities: root || privileged
        ? { bounding: caps, effective: caps, permitted: caps }
        : { bounding: caps },
      oomScoreAdj: hc.OomScoreAdj ?? 0,
    },
    root: { path: i.rootfs, readonly: !!hc.ReadonlyRootfs },
    hostname: c.Hostname,
    mounts: [...defaultMounts(hc, i.cgroupVersion).filter((m) => !covered.has(m.destination)), ...userMounts, ...networkFiles],
    linux: {
      namespaces,
      cgroupsPath: i.cgroupsPath,
      resources: resources(hc),
    },
  };
  if (c.Domainname) spec.domainname = c.Domainname;
  if (c.Tty && hc.ConsoleSize && hc.ConsoleSize[0] && hc.ConsoleSize[1]) {
    spec.process.consoleSize = { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] };
  }
  if (noNewPrivileges) spec.process.noNewPrivileges = true;
  if (hc.Ulimits?.length) {
    spec.process.rlimits = hc.Ulimits.map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, hard: u.Hard, soft: u.Soft }));
  }
  if (netMode !== 'host') {
    spec.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647', ...(hc.Sysctls ?? {}) };
  } else if (hc.Sysctls && Object.keys(hc.Sysctls).length) {
    spec.linux.sysctl = { ...hc.Sysctls };
  }
  if (!privileged) {
    spec.linux.maskedPaths = hc.MaskedPaths ?? DEFAULT_MASKED_PATHS;
    spec.linux.readonlyPaths = hc.ReadonlyPaths ?? DEFAULT_READONLY_PATHS;
    if (i.seccomp) spec.linux.seccomp = i.seccomp;
  }
  return spec;
}
