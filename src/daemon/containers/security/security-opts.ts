/**
 * `HostConfig.SecurityOpt`, capabilities and the other isolation settings a
 * create request carries: parsed and validated with moby's rules and
 * wording (daemon_unix.go parseSecurityOpt, caps.NormalizeLegacyCapabilities).
 * Pure.
 */
import type { HostConfig } from '../../../api/types/index.js';
import { InvalidParameter } from '../../../errdefs/index.js';
import { parseProfile, type SeccompChoice } from './seccomp.js';
import { ALL_CAPABILITIES } from './capabilities.js';

export interface SecurityOptions {
  noNewPrivileges: boolean;
  seccomp: SeccompChoice;
  /** undefined: follow --privileged (and user namespaces). */
  writableCgroups?: boolean;
  apparmorProfile?: string;
  labels: string[];
}

function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** Parses SecurityOpt; throws InvalidParameter with dockerd's message on a bad entry. */
export function parseSecurityOptions(opts: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: { kind: 'default' }, labels: [] };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'writable-cgroups') {
      out.writableCgroups = true;
      continue;
    }
    if (opt === 'disable') {
      out.labels.push('disable');
      continue;
    }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (!sep) throw new InvalidParameter('container.invalid_security_opt', `invalid --security-opt 1: "${opt}"`);
    const i = opt.indexOf(sep);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    switch (key) {
      case 'label':
        out.labels.push(value);
        break;
      case 'apparmor':
        out.apparmorProfile = value;
        break;
      case 'seccomp':
        out.seccomp = value === 'unconfined' ? { kind: 'unconfined' } : value === 'builtin' || value === '' ? { kind: 'default' } : { kind: 'custom', json: value };
        break;
      case 'no-new-privileges':
      case 'writable-cgroups': {
        const b = parseBool(value);
        if (b === undefined) throw new InvalidParameter('container.invalid_security_opt', `invalid --security-opt 2: "${opt}"`);
        if (key === 'no-new-privileges') out.noNewPrivileges = b;
        else out.writableCgroups = b;
        break;
      }
      default:
        throw new InvalidParameter('container.invalid_security_opt', `invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}

/** `net_admin`, `CAP_NET_ADMIN` and `ALL` → canonical names; unknown ones are refused. */
export function normaliseCapabilities(caps: readonly string[] | null | undefined, field: 'CapAdd' | 'CapDrop'): string[] {
  return (caps ?? []).map((c) => {
    const up = c.toUpperCase();
    if (up === 'ALL') return up;
    const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
    if (!ALL_CAPABILITIES.includes(name)) throw new InvalidParameter('container.unknown_capability', `invalid ${field}: unknown capability: "${name}"`);
    return name;
  });
}

const NAMESPACE_MODES = /^(|host|private|shareable|none|container:.+)$/;

/** Create-time checks of the isolation settings (moby's verifyPlatformContainerSettings, in part). */
export function validateIsolation(hc: HostConfig): void {
  parseSecurityOptions(hc.SecurityOpt);
  const seccompOpt = (hc.SecurityOpt ?? []).find((o) => /^seccomp[=:]/.test(o));
  const choice = seccompOpt ? parseSecurityOptions([seccompOpt]).seccomp : undefined;
  if (choice?.kind === 'custom') parseProfile(choice.json);
  normaliseCapabilities(hc.CapAdd, 'CapAdd');
  normaliseCapabilities(hc.CapDrop, 'CapDrop');
  if (hc.IpcMode && !NAMESPACE_MODES.test(hc.IpcMode)) throw new InvalidParameter('container.invalid_namespace_mode', `invalid IPC mode: ${hc.IpcMode}`);
  if (hc.PidMode && !/^(|host|container:.+)$/.test(hc.PidMode)) throw new InvalidParameter('container.invalid_namespace_mode', `invalid PID mode: ${hc.PidMode}`);
  if (hc.UTSMode && hc.UTSMode !== 'host') throw new InvalidParameter('container.invalid_namespace_mode', `invalid UTS mode: ${hc.UTSMode}`);
  if (hc.CgroupnsMode && !['host', 'private'].includes(hc.CgroupnsMode)) {
    throw new InvalidParameter('container.invalid_namespace_mode', `invalid cgroup namespace mode: ${hc.CgroupnsMode}`);
  }
  if (hc.UsernsMode && hc.UsernsMode !== 'host') throw new InvalidParameter('container.invalid_namespace_mode', `invalid USER mode: ${hc.UsernsMode}`);
  const adj = hc.OomScoreAdj ?? 0;
  if (adj < -1000 || adj > 1000) throw new InvalidParameter('container.invalid_oom_score', `Invalid value ${adj}, range for oom score adj is [-1000, 1000]`);
  for (const d of hc.Devices ?? []) {
    if (!d.PathOnHost) throw new InvalidParameter('container.invalid_device', 'invalid device mapping: no path on the host');
    if (d.CgroupPermissions && !/^[rwm]{1,3}$/.test(d.CgroupPermissions)) {
      throw new InvalidParameter('container.invalid_device', `invalid device mode: ${d.CgroupPermissions}`);
    }
  }
  for (const rule of hc.DeviceCgroupRules ?? []) parseDeviceCgroupRule(rule);
}

/** `c 1:3 rwm`, `b *:* m`, `a` → a device cgroup allow rule. */
export function parseDeviceCgroupRule(rule: string): { type: 'a' | 'b' | 'c'; major?: number; minor?: number; access: string } {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (rule.trim() === 'a') return { type: 'a', access: 'rwm' };
  if (!m) throw new InvalidParameter('container.invalid_device', `invalid device cgroup format '${rule}'`);
  const out: { type: 'a' | 'b' | 'c'; major?: number; minor?: number; access: string } = { type: m[1] as 'a' | 'b' | 'c', access: m[4]! };
  if (m[2] !== '*') out.major = Number(m[2]);
  if (m[3] !== '*') out.minor = Number(m[3]);
  return out;
}
