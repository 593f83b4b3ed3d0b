/**
 * What a container mounts, as data (pure): `-v` strings, `--mount` specs,
 * `--tmpfs`, `--volumes-from` and the image's VOLUMEs become the record's
 * mount points at create (moby's registerMountPoints), and the mount
 * points become runtime-spec mounts at start.
 *
 *   planMounts({ binds: ['data:/d', '/srv:/srv:ro', '/cache'], ... })
 *     → [{ Type: 'volume', Name: 'data', Destination: '/d', Mode: 'z', RW: true },
 *        { Type: 'bind', Source: '/srv', Destination: '/srv', Mode: 'ro', RW: false, Propagation: 'rprivate' },
 *        { Type: 'volume', Name: '' (anonymous: named at create), Destination: '/cache', ... }]
 */
import { posix } from 'node:path';
import type { HostConfig, MountPoint, MountSpec } from '../../api/types/index.js';
import { InvalidParameter } from '../../errdefs/index.js';
import type { SpecMount } from '../../oci/runtime-spec.js';

export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];
const LABEL_MODES = ['z', 'Z'];
const CONSISTENCY = ['consistent', 'cached', 'delegated'];

/** A mount point with what the plan knows before volumes exist. */
export interface PlannedMount extends MountPoint {
  /** For a volume: create it with these options if it does not exist yet. */
  create?: { driver?: string; driverOpts?: Record<string, string>; labels?: Record<string, string> };
  /** `-v /host:/x` creates a missing host directory; `--mount type=bind` refuses it. */
  createSource?: boolean;
}

export interface PlanInput {
  binds: string[];
  mounts: MountSpec[];
  tmpfs: Record<string, string>;
  /** Mount points of `--volumes-from` containers, with the mode asked for (`ro`, `rw` or ''). */
  volumesFrom: { mounts: MountPoint[]; mode: string }[];
  /** Destinations of the image's VOLUME instructions. */
  imageVolumes: string[];
}

function invalidSpec(raw: string, why?: string): InvalidParameter {
  return new InvalidParameter('volume.invalid_spec', why ? `invalid volume specification: '${raw}': ${why}` : `invalid volume specification: '${raw}'`);
}

function checkDestination(dest: string, type: string, raw: string): string {
  if (!posix.isAbsolute(dest)) throw invalidSpec(raw, `invalid mount config for type "${type}": invalid mount path: '${dest}' mount path must be absolute`);
  const clean = posix.normalize(dest).replace(/(.)\/$/, '$1');
  if (clean === '/') throw invalidSpec(raw, `invalid mount config for type "${type}": invalid specification: destination can't be '/'`);
  return clean;
}

export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name)) {
    throw new InvalidParameter('volume.invalid_name', `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** `-v` mode list: ro/rw, z/Z, a propagation, nocopy. */
function parseMode(mode: string, raw: string, isBind: boolean): { rw: boolean; propagation: string; nocopy: boolean } {
  let rw = true;
  let propagation = '';
  let nocopy = false;
  const seen = new Set<string>();
  for (const m of mode ? mode.split(',') : []) {
    const kind = m === 'ro' || m === 'rw' ? 'rw' : PROPAGATIONS.includes(m) ? 'prop' : LABEL_MODES.includes(m) ? 'label' : m === 'nocopy' ? 'copy' : CONSISTENCY.includes(m) ? 'consistency' : '';
    if (!kind || seen.has(kind) || (kind === 'prop' && !isBind) || (kind === 'copy' && isBind)) {
      throw new InvalidParameter('volume.invalid_mode', `invalid mode: ${mode}`);
    }
    seen.add(kind);
    if (kind === 'rw') rw = m === 'rw';
    if (kind === 'prop') propagation = m;
    if (kind === 'copy') nocopy = true;
  }
  void raw;
  return { rw, propagation, nocopy };
}

/** One `-v` string. */
export function parseBind(raw: string): PlannedMount {
  const parts = raw.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw invalidSpec(raw);
  if (parts.length === 1) {
    const dest = checkDestination(parts[0]!, 'volume', raw);
    return { Type: 'volume', Name: '', Source: '', Destination: dest, Driver: 'local', Mode: '', RW: true, Propagation: '', create: {} };
  }
  const [src, dst, mode = ''] = parts as [string, string, string?];
  const isBind = posix.isAbsolute(src);
  const dest = checkDestination(dst, isBind ? 'bind' : 'volume', raw);
  const m = parseMode(mode, raw, isBind);
  if (isBind) {
    return {
      Type: 'bind', Source: posix.normalize(src), Destination: dest, Mode: mode, RW: m.rw,
      Propagation: m.propagation || 'rprivate', createSource: true,
    };
  }
  checkVolumeName(src);
  return { Type: 'volume', Name: src, Source: '', Destination: dest, Driver: 'local', Mode: mode || 'z', RW: m.rw, Propagation: '', create: {} };
}

/** One `--mount` spec (HostConfig.Mounts). */
export function parseMountSpec(m: MountSpec): PlannedMount {
  const type = m.Type;
  const raw = `${type}:${m.Source ?? ''}:${m.Target}`;
  if (!m.Target) throw new InvalidParameter('volume.invalid_mount', `invalid mount config for type "${type}": field Target must not be empty`);
  const dest = checkDestination(m.Target, type, raw);
  const rw = !m.ReadOnly;
  switch (type) {
    case 'bind': {
      if (!m.Source) throw new InvalidParameter('volume.invalid_mount', `invalid mount config for type "bind": field Source must not be empty`);
      if (!posix.isAbsolute(m.Source)) throw new InvalidParameter('volume.invalid_mount', `invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`);
      const prop = m.BindOptions?.Propagation ?? '';
      if (prop && !PROPAGATIONS.includes(prop)) throw new InvalidParameter('volume.invalid_mount', `invalid mount config for type "bind": invalid propagation mode: ${prop}`);
      return { Type: 'bind', Source: posix.normalize(m.Source), Destination: dest, Mode: '', RW: rw, Propagation: prop || 'rprivate', createSource: !!m.BindOptions?.CreateMountpoint };
    }
    case 'volume': {
      if (m.Source) checkVolumeName(m.Source);
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      const create: PlannedMount['create'] = {};
      if (driver) create.driver = driver;
      if (m.VolumeOptions?.DriverConfig?.Options) create.driverOpts = m.VolumeOptions.DriverConfig.Options;
      if (m.VolumeOptions?.Labels) create.labels = m.VolumeOptions.Labels;
      return { Type: 'volume', Name: m.Source ?? '', Source: '', Destination: dest, Driver: 'local', Mode: '', RW: rw, Propagation: '', create };
    }
    case 'tmpfs':
      if (m.Source) throw new InvalidParameter('volume.invalid_mount', `invalid mount config for type "tmpfs": field Source must not be specified`);
      return { Type: 'tmpfs', Source: '', Destination: dest, Mode: '', RW: rw, Propagation: '' };
    default:
      throw new InvalidParameter('volume.invalid_mount', `mount type unknown: "${type}"`);
  }
}

/** `--volumes-from x[:ro|rw]` → the container reference and mode. */
export function parseVolumesFrom(spec: string): { ref: string; mode: string } {
  const i = spec.lastIndexOf(':');
  if (i === -1) return { ref: spec, mode: '' };
  const mode = spec.slice(i + 1);
  if (mode !== 'ro' && mode !== 'rw') throw new InvalidParameter('volume.invalid_mode', `invalid mode: ${mode}`);
  return { ref: spec.slice(0, i), mode };
}

/** The mount points of a new container, in moby's precedence order (later sources replace earlier ones). */
export function planMounts(i: PlanInput): PlannedMount[] {
  const byDest = new Map<string, PlannedMount>();
  for (const vf of i.volumesFrom) {
    for (const mp of vf.mounts) {
      if (mp.Type !== 'volume' && mp.Type !== 'bind') continue;
      const rw = vf.mode ? vf.mode === 'rw' : mp.RW;
      byDest.set(mp.Destination, { ...mp, RW: rw, Mode: vf.mode ? vf.mode : mp.Mode });
    }
  }
  const own = new Set<string>();
  const claim = (m: PlannedMount) => {
    if (own.has(m.Destination)) throw new InvalidParameter('volume.duplicate_mount', `Duplicate mount point: ${m.Destination}`);
    own.add(m.Destination);
    byDest.set(m.Destination, m);
  };
  for (const b of i.binds) claim(parseBind(b));
  for (const m of i.mounts) claim(parseMountSpec(m));
  for (const dest of Object.keys(i.tmpfs)) {
    const d = checkDestination(dest, 'tmpfs', dest);
    if (own.has(d)) throw new InvalidParameter('volume.duplicate_mount', `Duplicate mount point: ${d}`);
    own.add(d);
    byDest.delete(d); // --tmpfs is not a mount point in inspect, but it wins over volumes-from
  }
  for (const v of i.imageVolumes) {
    const d = posix.normalize(v).replace(/(.)\/$/, '$1');
    if (byDest.has(d) || own.has(d)) continue;
    byDest.set(d, { Type: 'volume', Name: '', Source: '', Destination: d, Driver: 'local', Mode: '', RW: true, Propagation: '', create: {} });
  }
  return [...byDest.values()];
}

/** Parent directories before what is mounted inside them (moby sorts by path depth). */
export function sortByDepth<T extends { destination: string }>(ms: T[]): T[] {
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  return ms.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m);
}

/** `--tmpfs /x:size=1m,exec` options → mount options (Docker's defaults first; later options win in mount(8)). */
export function tmpfsOptions(user: string): string[] {
  return ['noexec', 'nosuid', 'nodev', ...user.split(',').filter(Boolean)];
}

/** Options of a `--mount type=tmpfs` spec. */
export function mountSpecTmpfsOptions(m: MountSpec | undefined): string[] {
  const opts: string[] = [];
  if (m?.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
  if (m?.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
  for (const o of m?.TmpfsOptions?.Options ?? []) opts.push(o.filter(Boolean).join('='));
  if (m?.ReadOnly) opts.push('ro');
  return ['noexec', 'nosuid', 'nodev', ...opts];
}

/**
 * The runtime-spec mounts of a container (pure): its mount points, with
 * volume sources resolved by `volumePath`, plus `--tmpfs`.
 */
export function specMounts(mounts: MountPoint[], hc: HostConfig, volumePath: (name: string, destination: string) => string): SpecMount[] {
  const out: SpecMount[] = [];
  const mountSpecs = new Map((hc.Mounts ?? []).map((m) => [posix.normalize(m.Target).replace(/(.)\/$/, '$1'), m]));
  for (const mp of mounts) {
    if (mp.Type === 'volume') {
      out.push({ destination: mp.Destination, type: 'bind', source: volumePath(mp.Name!, mp.Destination), options: ['rbind', ...(mp.RW ? [] : ['ro'])] });
    } else if (mp.Type === 'bind') {
      out.push({ destination: mp.Destination, type: 'bind', source: mp.Source, options: ['rbind', mp.RW ? 'rw' : 'ro', mp.Propagation || 'rprivate'] });
    } else if (mp.Type === 'tmpfs') {
      out.push({ destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: mountSpecTmpfsOptions(mountSpecs.get(mp.Destination)) });
    }
  }
  for (const [dest, opts] of Object.entries(hc.Tmpfs ?? {})) {
    out.push({ destination: posix.normalize(dest), type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(opts) });
  }
  return sortByDepth(out);
}

/** Does this mount point skip the copy of the image's content (`nocopy`)? */
export function noCopy(mp: MountPoint, hc: HostConfig): boolean {
  if (mp.Mode.split(',').includes('nocopy')) return true;
  return !!(hc.Mounts ?? []).find((m) => m.Type === 'volume' && posix.normalize(m.Target) === mp.Destination)?.VolumeOptions?.NoCopy;
}
