/**
 * The OCI runtime spec (config.json) of a container, with Docker's defaults
 * (shared/reference/oci-notes.md §4). A pure function of the container
 * record and a few facts gathered at start; no I/O.
 */
import { InvalidParameter } from '../../errdefs/index.js';
import type { RuntimeSpec, SpecMount, SpecNamespace, SpecResources } from '../../oci/runtime-spec.js';
import { capabilities } from './security/capabilities.js';
import type { ContainerRecord } from './record.js';
import { containerSeccomp, type KernelVersion } from './security/seccomp.js';
import { parseDeviceCgroupRule, parseSecurityOptions } from './security/security-opts.js';
import type { ResolvedUser } from './user.js';
import type { IdMap } from './security/userns.js';
import { userNamespaceFor } from './security/userns-netns.js';

export { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, capabilities } from './security/capabilities.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

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
  /** IPC and PID namespaces of another container to join (`container:<ref>` modes). */
  joined?: { ipc?: string; pid?: string };
  /** Volumes, binds and tmpfs mounts, already resolved, in the user's order. */
  userMounts?: SpecMount[];
  /** Facts and host resources the security settings need (see security.ts). */
  security?: SecurityInputs;
}

/** A device node to create in the container, with its cgroup rule. */
export interface ContainerDevice {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
  /** Cgroup access for a `--device` mapping (rwm); privileged containers allow every device anyway. */
  access?: string;
}

/** What buildSpec needs beyond the record to apply the isolation settings. */
export interface SecurityInputs {
  /** The host's architecture (libseccomp name) and kernel, to resolve seccomp rules. */
  arch: string;
  kernel: KernelVersion;
  /** Host path of the init binary bind-mounted at /sbin/docker-init for `--init`. */
  initPath?: string;
  /** Daemon-wide `init` (daemon.json): used when the container does not say. */
  initByDefault?: boolean;
  /** userns-remap: container ids → host ids. */
  idMap?: IdMap;
  /** Device nodes: every host device for --privileged, plus --device mappings. */
  devices?: ContainerDevice[];
  /** Capabilities the daemon holds (its bounding set): --privileged and `--cap-add ALL` get these. */
  availableCapabilities?: string[];
}

/** Where Docker puts its init (tini) in a container. */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

/** Mounts that stay writable with --read-only (moby's withMounts). */
const WRITABLE_WITH_READONLY_ROOTFS = new Set(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']);

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

/** Docker's default mounts, in its order; `writableCgroups` lifts the read-only cgroup mount. */
export function defaultMounts(hc: ContainerRecord['hostConfig'], cgroupVersion: 1 | 2, writableCgroups: boolean): SpecMount[] {
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
      options: [writableCgroups ? 'rw' : 'ro', 'nosuid', 'noexec', 'nodev'],
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
  if (!hc.Privileged) {
    for (const rule of hc.DeviceCgroupRules ?? []) {
      const d = parseDeviceCgroupRule(rule);
      r.devices!.push({ allow: true, type: d.type, ...(d.major !== undefined ? { major: d.major } : {}), ...(d.minor !== undefined ? { minor: d.minor } : {}), access: d.access });
    }
  }
  return r;
}

/** The namespaces a container gets (moby's WithNamespaces); `userns` adds a user namespace. */
export function namespacesFor(hc: ContainerRecord['hostConfig'], cgroupVersion: 1 | 2, netnsPath: string | undefined, userns: boolean, joined: { ipc?: string; pid?: string } = {}): SpecNamespace[] {
  // under userns-remap the daemon's network namespace belongs to a user namespace made with it: join that one
  const user: SpecNamespace = userns && netnsPath ? { type: 'user', path: userNamespaceFor(netnsPath) } : { type: 'user' };
  const netMode = hc.NetworkMode ?? 'default';
  const namespaces: SpecNamespace[] = [{ type: 'mount' }];
  if (netMode !== 'host') namespaces.push(netnsPath ? { type: 'network', path: netnsPath } : { type: 'network' });
  if (hc.UTSMode !== 'host') namespaces.push({ type: 'uts' });
  if (hc.PidMode !== 'host') namespaces.push(joined.pid ? { type: 'pid', path: joined.pid } : { type: 'pid' });
  if (hc.IpcMode !== 'host') namespaces.push(joined.ipc ? { type: 'ipc', path: joined.ipc } : { type: 'ipc' });
  if (hc.CgroupnsMode === 'private' || (cgroupVersion === 2 && hc.CgroupnsMode !== 'host')) namespaces.push({ type: 'cgroup' });
  if (userns) namespaces.push(user);
  return namespaces;
}

export function buildSpec(i: SpecInputs): RuntimeSpec {
  const { rec } = i;
  const c = rec.config;
  const hc = rec.hostConfig;
  const privileged = !!hc.Privileged;
  const caps = capabilities(hc.CapAdd, hc.CapDrop, privileged, i.security?.availableCapabilities);
  const root = i.user.uid === 0;
  const opts = parseSecurityOptions(hc.SecurityOpt);
  const netMode = hc.NetworkMode ?? 'default';
  const idMap = hc.UsernsMode === 'host' ? undefined : i.security?.idMap;
  // cgroups cannot be remounted read-only from inside a user namespace (moby does the same)
  const writableCgroups = !!idMap || (opts.writableCgroups ?? privileged);

  const userMounts = i.userMounts ?? [];
  const covered = new Set(userMounts.map((m) => m.destination));
  const networkFiles: SpecMount[] = [
    { destination: '/etc/resolv.conf', type: 'bind', source: i.files.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: i.files.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: i.files.hosts, options: ['rbind', 'rprivate'] },
  ].filter((m) => !covered.has(m.destination));
  const systemMounts = defaultMounts(hc, i.cgroupVersion, writableCgroups).filter((m) => !covered.has(m.destination));
  if (hc.ReadonlyRootfs) {
    for (const m of systemMounts) if (!WRITABLE_WITH_READONLY_ROOTFS.has(m.destination)) m.options = [...(m.options ?? []).filter((o) => o !== 'rw'), 'ro'];
  }
  if (privileged) {
    // --privileged after --read-only: /sys is writable again (moby's order)
    const sys = systemMounts.find((m) => m.destination === '/sys');
    if (sys) sys.options = (sys.options ?? []).filter((o) => o !== 'ro').concat('rw');
  }

  let args = [rec.path, ...rec.args];
  const initMounts: SpecMount[] = [];
  const wantsInit = hc.Init ?? i.security?.initByDefault ?? false;
  // an init only makes sense as pid 1 of the container's own pid namespace
  if (wantsInit && !hc.PidMode) {
    if (!i.security?.initPath) throw new InvalidParameter('container.no_init', 'docker-init binary not found: install the Debian package "tini"');
    args = [INIT_PATH_IN_CONTAINER, '--', ...args];
    initMounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: i.security.initPath, options: ['bind', 'ro'] });
  }

  const spec: RuntimeSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: c.Tty,
      user: { uid: i.user.uid, gid: i.user.gid, additionalGids: i.user.additionalGids },
      args,
      env: processEnv(c.Hostname, c.Tty, c.Env),
      cwd: c.WorkingDir || '/',
      capabilities: root || privileged
        ? { bounding: caps, effective: caps, permitted: caps }
        : { bounding: caps },
      oomScoreAdj: hc.OomScoreAdj ?? 0,
    },
    root: { path: i.rootfs, readonly: !!hc.ReadonlyRootfs },
    hostname: c.Hostname,
    mounts: [...systemMounts, ...initMounts, ...userMounts, ...networkFiles],
    linux: {
      namespaces: namespacesFor(hc, i.cgroupVersion, i.netnsPath, !!idMap, i.joined),
      cgroupsPath: i.cgroupsPath,
      resources: resources(hc),
    },
  };
  if (idMap) {
    spec.linux.uidMappings = idMap.uids.map((m) => ({ ...m }));
    spec.linux.gidMappings = idMap.gids.map((m) => ({ ...m }));
  }
  // a shared bind propagates back to the host only from a shared root; a slave bind wants a slave root (moby's WithMounts)
  const propagations = userMounts.flatMap((m) => m.options ?? []);
  if (propagations.some((o) => o === 'shared' || o === 'rshared')) spec.linux.rootfsPropagation = 'shared';
  else if (propagations.some((o) => o === 'slave' || o === 'rslave')) spec.linux.rootfsPropagation = 'slave';
  if (c.Domainname) spec.domainname = c.Domainname;
  if (c.Tty && hc.ConsoleSize && hc.ConsoleSize[0] && hc.ConsoleSize[1]) {
    spec.process.consoleSize = { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] };
  }
  if (opts.noNewPrivileges) spec.process.noNewPrivileges = true;
  if (hc.Ulimits?.length) {
    spec.process.rlimits = hc.Ulimits.map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, hard: u.Hard, soft: u.Soft }));
  }
  // only in a namespace of its own: one joined with container:<id> keeps what its owner set (moby's IsPrivate)
  if (netMode !== 'host' && !netMode.startsWith('container:')) {
    // ping sockets cannot be set up from a user namespace (moby leaves the sysctl out there)
    const defaults: Record<string, string> = idMap
      ? { 'net.ipv4.ip_unprivileged_port_start': '0' }
      : { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' };
    spec.linux.sysctl = { ...defaults, ...(hc.Sysctls ?? {}) };
  } else if (hc.Sysctls && Object.keys(hc.Sysctls).length) {
    spec.linux.sysctl = { ...hc.Sysctls };
  }
  const devices = i.security?.devices ?? [];
  if (devices.length) {
    spec.linux.devices = devices.map((d) => ({ path: d.path, type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode, uid: d.uid, gid: d.gid }));
    if (!privileged) {
      for (const d of devices) spec.linux.resources!.devices!.push({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access: d.access ?? 'rwm' });
    }
  }
  if (!privileged) {
    spec.linux.maskedPaths = hc.MaskedPaths ?? DEFAULT_MASKED_PATHS;
    spec.linux.readonlyPaths = hc.ReadonlyPaths ?? DEFAULT_READONLY_PATHS;
  }
  if (i.security) {
    const seccomp = containerSeccomp(opts.seccomp, privileged, { arch: i.security.arch, kernel: i.security.kernel, capabilities: caps });
    if (seccomp) spec.linux.seccomp = seccomp;
  }
  return spec;
}
