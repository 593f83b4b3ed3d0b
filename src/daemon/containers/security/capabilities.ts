/**
 * Linux capabilities of a container's process: Docker's default set, and
 * moby's rules for --cap-add, --cap-drop and --privileged (caps.TweakCapabilities).
 * Pure, but for boundingCapabilities, which reads the daemon's own status.
 */
import { readFile } from 'node:fs/promises';

/** Docker's default set: what a container's root may do without extra flags. */
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

/** `net_admin` → `CAP_NET_ADMIN`; `all` → `ALL`. */
export function normaliseCapName(c: string): string {
  const up = c.toUpperCase();
  return up === 'ALL' || up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/**
 * The container's capability set: all of them when privileged; `--cap-add ALL`
 * gives all but the dropped ones; `--cap-drop ALL` keeps only the added ones;
 * otherwise the defaults minus drops plus adds.
 */
export function capabilities(
  capAdd: string[] | null | undefined,
  capDrop: string[] | null | undefined,
  privileged: boolean,
  available: readonly string[] = ALL_CAPABILITIES,
): string[] {
  // "all" means all the daemon itself holds: a capability outside its bounding set cannot be granted
  const all = ALL_CAPABILITIES.filter((c) => available.includes(c));
  if (privileged) return all;
  const add = (capAdd ?? []).map(normaliseCapName);
  const drop = (capDrop ?? []).map(normaliseCapName);
  let caps: string[];
  if (add.includes('ALL')) caps = all.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = [...add];
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)];
}

/** The daemon's own bounding set: what a privileged container or exec can be given. */
export async function boundingCapabilities(status = '/proc/self/status'): Promise<string[]> {
  return capabilitiesInMask(/^CapBnd:\s*([0-9a-f]+)/m.exec(await readFile(status, 'utf8'))?.[1] ?? '');
}

/** Names of the capabilities in a `/proc/<pid>/status` capability mask (e.g. CapBnd). */
export function capabilitiesInMask(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask.trim() || '0'}`);
  return CAPABILITY_BITS.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** Capability names by bit number (linux/capability.h). */
const CAPABILITY_BITS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];
