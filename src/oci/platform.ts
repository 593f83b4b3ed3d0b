/** Platforms: `--platform os/arch[/variant]` and choosing a manifest from an index, as Docker does. */
import { InvalidParameter, NotFound } from '../errdefs/index.js';
import { hostArchitecture, type Descriptor, type Platform } from './image.js';

export function hostPlatform(): Platform {
  const arch = hostArchitecture();
  return { os: 'linux', architecture: arch, ...(arch === 'arm64' ? { variant: 'v8' } : {}) };
}

/** Parses `linux/amd64`, `linux/arm/v7`, `amd64`; empty means the host's. */
export function parsePlatform(s: string | undefined): Platform {
  if (!s) return hostPlatform();
  const parts = s.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new InvalidParameter('image.invalid_platform', `"${s}": unknown operating system or architecture: invalid argument`);
  }
  const [a, b, c] = parts;
  const platform: Platform = b === undefined ? { os: 'linux', architecture: normaliseArch(a!) } : { os: a!, architecture: normaliseArch(b) };
  if (c) platform.variant = c;
  return platform;
}

function normaliseArch(a: string): string {
  return ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' } as Record<string, string>)[a] ?? a;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The index entry for `want`: same os and architecture, and variant when one is asked for (arm64's v8 is its default). */
export function chooseManifest(manifests: Descriptor[], want: Platform): Descriptor {
  const variantOf = (p: Platform) => p.variant ?? (p.architecture === 'arm64' ? 'v8' : '');
  const candidates = manifests.filter((m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture);
  const exact = candidates.find((m) => !want.variant || variantOf(m.platform!) === variantOf(want));
  if (!exact) throw new NotFound('image.no_matching_manifest', `no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  return exact;
}
