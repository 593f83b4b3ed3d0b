/**
 * Seccomp profiles in Docker's format, resolved per container into the OCI
 * runtime spec's `linux.seccomp` (pure; moby's profiles/seccomp rules).
 *
 * A Docker profile's rules may be conditional: `includes`/`excludes` name
 * capabilities (checked against the container's bounding set), architectures
 * (the host's, in libseccomp's spelling: amd64, arm64, x86...) and a minimum
 * kernel. Resolution keeps the rules whose conditions hold and drops the
 * conditions; `archMap` becomes the native architecture and its
 * sub-architectures.
 *
 *   const spec = resolveProfile(defaultSeccompProfile(), { arch: 'amd64', kernel: { major: 6, minor: 1 }, capabilities });
 */
import { InvalidParameter } from '../../../errdefs/index.js';
import { defaultSeccompProfile } from './seccomp-default.js';

export interface SyscallArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface RuleFilter {
  caps?: string[];
  arches?: string[];
  /** `<kernel>.<major>`, e.g. "4.8". */
  minKernel?: string;
}

/** One rule of a Docker-format profile. */
export interface ProfileRule {
  names?: string[];
  /** Old single-name form. */
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SyscallArg[] | null;
  comment?: string;
  includes?: RuleFilter;
  excludes?: RuleFilter;
}

/** A profile as Docker reads it (`--security-opt seccomp=profile.json`). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: ProfileRule[] | null;
}

/** `linux.seccomp` of the runtime spec. */
export interface SpecSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: SyscallArg[] }[];
}

export interface KernelVersion {
  major: number;
  minor: number;
}

export interface SeccompContext {
  /** libseccomp's name of the host architecture: amd64, arm64, x86, arm, s390x, ppc64le, riscv64... */
  arch: string;
  kernel: KernelVersion;
  /** The container's bounding capabilities. */
  capabilities: readonly string[];
}

/** libseccomp architecture name → the runtime spec's constant. */
const SPEC_ARCH: Record<string, string> = {
  x86: 'SCMP_ARCH_X86', amd64: 'SCMP_ARCH_X86_64', arm: 'SCMP_ARCH_ARM', arm64: 'SCMP_ARCH_AARCH64',
  loong64: 'SCMP_ARCH_LOONGARCH64', mips64: 'SCMP_ARCH_MIPS64', mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64', mipsel64n32: 'SCMP_ARCH_MIPSEL64N32', mipsel: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC', ppc64: 'SCMP_ARCH_PPC64', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390', s390x: 'SCMP_ARCH_S390X',
};

/** Node's `process.arch` → libseccomp's name. */
export function seccompArch(nodeArch: string): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64', loong64: 'loong64', mipsel: 'mipsel', mips: 'mips' };
  return map[nodeArch] ?? nodeArch;
}

/** `6.1.0-18-amd64` → { major: 6, minor: 1 } (patch level and suffixes do not matter). */
export function parseKernelVersion(release: string): KernelVersion {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : { major: 0, minor: 0 };
}

function parseMinKernel(v: string): KernelVersion {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  if (!m || (m[1] === '0' && m[2] === '0')) throw new InvalidParameter('container.invalid_seccomp', `invalid kernel version: "${v}", expected "<kernel>.<major>"`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function kernelAtLeast(k: KernelVersion, min: KernelVersion): boolean {
  return k.major > min.major || (k.major === min.major && k.minor >= min.minor);
}

function applies(rule: ProfileRule, ctx: SeccompContext): boolean {
  const ex = rule.excludes;
  if (ex) {
    if (ex.arches?.includes(ctx.arch)) return false;
    if (ex.caps?.some((c) => ctx.capabilities.includes(c))) return false;
    if (ex.minKernel && kernelAtLeast(ctx.kernel, parseMinKernel(ex.minKernel))) return false;
  }
  const inc = rule.includes;
  if (inc) {
    if (inc.arches?.length && !inc.arches.includes(ctx.arch)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => ctx.capabilities.includes(c))) return false;
    if (inc.minKernel && !kernelAtLeast(ctx.kernel, parseMinKernel(inc.minKernel))) return false;
  }
  return true;
}

/**
 * The spec section for `profile` in this container; undefined when the
 * profile disables seccomp (no default action and no rules).
 */
export function resolveProfile(profile: SeccompProfile, ctx: SeccompContext): SpecSeccomp | undefined {
  if (!profile.defaultAction && !profile.syscalls?.length) return undefined;
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new InvalidParameter('container.invalid_seccomp', "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const out: SpecSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const arches = [...(profile.architectures ?? [])];
  const native = SPEC_ARCH[ctx.arch];
  const mapped = profile.archMap?.find((a) => a.architecture === native);
  if (mapped) arches.push(mapped.architecture, ...(mapped.subArchitectures ?? []));
  if (arches.length) out.architectures = arches;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  const syscalls: NonNullable<SpecSeccomp['syscalls']> = [];
  for (const rule of profile.syscalls ?? []) {
    if (rule.name && rule.names?.length) {
      throw new InvalidParameter('container.invalid_seccomp', "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    }
    if (!applies(rule, ctx)) continue;
    const call: NonNullable<SpecSeccomp['syscalls']>[number] = { names: rule.name ? [rule.name] : [...(rule.names ?? [])], action: rule.action };
    if (rule.errnoRet !== undefined) call.errnoRet = rule.errnoRet;
    if (rule.args?.length) call.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(call);
  }
  out.syscalls = syscalls;
  return out;
}

/** Parses a Docker-format profile sent as JSON in `SecurityOpt` (`seccomp=<json>`). */
export function parseProfile(json: string): SeccompProfile {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw new InvalidParameter('container.invalid_seccomp', `Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidParameter('container.invalid_seccomp', 'Decoding seccomp profile failed: the profile is not a JSON object');
  }
  const p = v as Record<string, unknown>;
  const bad = (what: string) => new InvalidParameter('container.invalid_seccomp', `Decoding seccomp profile failed: ${what}`);
  if (p.defaultAction !== undefined && typeof p.defaultAction !== 'string') throw bad('defaultAction must be a string');
  if (p.syscalls !== undefined && p.syscalls !== null && !Array.isArray(p.syscalls)) throw bad('syscalls must be a list');
  for (const r of (p.syscalls as unknown[] | null | undefined) ?? []) {
    if (!r || typeof r !== 'object') throw bad('every syscall rule must be an object');
    const rule = r as Record<string, unknown>;
    if (rule.names !== undefined && rule.names !== null && !(Array.isArray(rule.names) && rule.names.every((n) => typeof n === 'string'))) throw bad('names must be a list of strings');
    if (typeof rule.action !== 'string') throw bad('every syscall rule needs an action');
  }
  const profile = { defaultAction: '', ...p } as SeccompProfile;
  // conflicts are reported now rather than at start
  resolveProfile(profile, { arch: 'amd64', kernel: { major: 255, minor: 0 }, capabilities: [] });
  return profile;
}

/** What `--security-opt seccomp=...` asked for. */
export type SeccompChoice = { kind: 'default' } | { kind: 'unconfined' } | { kind: 'custom'; json: string };

/**
 * The seccomp section of a container's spec, as moby decides it:
 * `unconfined` drops it; `--privileged` drops it unless a custom profile was
 * given; otherwise the custom profile or the built-in default.
 */
export function containerSeccomp(choice: SeccompChoice, privileged: boolean, ctx: SeccompContext): SpecSeccomp | undefined {
  if (choice.kind === 'unconfined') return undefined;
  if (choice.kind === 'custom') return resolveProfile(parseProfile(choice.json), ctx);
  if (privileged) return undefined;
  return resolveProfile(defaultSeccompProfile(), ctx);
}
