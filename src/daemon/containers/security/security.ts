/**
 * The container isolation settings that need the host: checks at create
 * that depend on the daemon's configuration (user namespaces, CPU count),
 * and at start the facts buildSpec needs (architecture, kernel, the init
 * binary, device nodes) plus the ownership a remapped root needs on the
 * container's own directories.
 *
 *   const security = new ContainerSecurity({ arch, kernel, ncpu, idMap, initPath });
 *   security.validateCreate(hostConfig);                 // at create: 400 on conflicts
 *   const inputs = await security.prepare(rec, paths);   // at start, before the rootfs is mounted
 *   buildSpec({ ..., security: inputs });
 */
import { chown, lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostConfig } from '../../../api/types/index.js';
import { InvalidParameter } from '../../../errdefs/index.js';
import type { ContainerRecord } from '../record.js';
import type { ContainerPaths } from '../rootfs.js';
import type { KernelVersion } from './seccomp.js';
import { normaliseCapabilities } from './security-opts.js';
import type { ContainerDevice, SecurityInputs } from '../spec.js';
import { rootPair, type IdMap } from './userns.js';

export interface SecurityFacts {
  arch: string;
  kernel: KernelVersion;
  ncpu: number;
  /** userns-remap is on: containers' root is this map's root on the host. */
  idMap?: IdMap;
  /** The init binary for `--init` (tini); absent when none was found. */
  initPath?: string;
  /** daemon.json `init`: containers get an init unless they say otherwise. */
  initByDefault?: boolean;
  /** The daemon's bounding capabilities. */
  availableCapabilities: string[];
}

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export class ContainerSecurity {
  constructor(private readonly facts: SecurityFacts) {}

  get idMap(): IdMap | undefined {
    return this.facts.idMap;
  }

  /** Settings that conflict with this daemon's configuration (moby's verifyPlatformContainerSettings). */
  validateCreate(hc: HostConfig): void {
    if (this.facts.idMap && hc.UsernsMode !== 'host') {
      if (hc.Privileged) {
        throw new InvalidParameter('container.userns_conflict', 'privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode');
      }
      if (hc.NetworkMode === 'host') throw new InvalidParameter('container.userns_conflict', "cannot share the host's network namespace when user namespaces are enabled");
      if (hc.PidMode === 'host') throw new InvalidParameter('container.userns_conflict', 'cannot share the host PID namespace when user namespaces are enabled');
    }
    if (hc.NanoCpus && (hc.NanoCpus < 0.01e9 || hc.NanoCpus > this.facts.ncpu * 1e9)) {
      const n = this.facts.ncpu;
      throw new InvalidParameter('container.invalid_cpus', `Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
    }
    for (const [field, list] of [['CapAdd', hc.CapAdd], ['CapDrop', hc.CapDrop]] as const) {
      for (const c of normaliseCapabilities(list, field)) {
        if (c !== 'ALL' && !this.facts.availableCapabilities.includes(c)) {
          throw new InvalidParameter('container.unknown_capability', `invalid ${field}: capability not supported by your kernel or not available in the current environment: "${c}"`);
        }
      }
    }
    if (hc.Init && !this.facts.initPath) {
      throw new InvalidParameter('container.no_init', 'docker-init binary not found: install the Debian package "tini"');
    }
  }

  /** Gathers what buildSpec needs; fixes ownership of the container's layers under a remapped root. */
  async prepare(rec: ContainerRecord, paths: ContainerPaths): Promise<SecurityInputs> {
    const hc = rec.hostConfig;
    const idMap = hc.UsernsMode === 'host' ? undefined : this.facts.idMap;
    if (this.facts.idMap) await this.chownForRemappedRoot(paths, rec);
    const devices: ContainerDevice[] = [];
    if (hc.Privileged) devices.push(...(await hostDevices('/dev')));
    for (const d of hc.Devices ?? []) {
      if (hc.Privileged && d.PathOnHost === d.PathInContainer) continue; // already there
      devices.push(...(await devicesFromPath(d.PathOnHost, d.PathInContainer || d.PathOnHost, d.CgroupPermissions || 'rwm')));
    }
    const wantsInit = hc.Init ?? this.facts.initByDefault ?? false;
    if (wantsInit && !this.facts.initPath) {
      throw new InvalidParameter('container.no_init', 'docker-init binary not found: install the Debian package "tini"');
    }
    return {
      arch: this.facts.arch,
      kernel: this.facts.kernel,
      ...(this.facts.initPath ? { initPath: this.facts.initPath } : {}),
      ...(this.facts.initByDefault ? { initByDefault: true } : {}),
      ...(idMap ? { idMap } : {}),
      ...(devices.length ? { devices } : {}),
      availableCapabilities: this.facts.availableCapabilities,
    };
  }

  /**
   * The remapped root must own what it writes through: the top of the
   * writable layer (so it can create files in `/`) and the init layer
   * (mount points, /.dockerenv). Idempotent; a handful of inodes.
   */
  private async chownForRemappedRoot(paths: ContainerPaths, rec: ContainerRecord): Promise<void> {
    const { uid, gid } = rootPair(this.facts.idMap!);
    // a named volume's top directory belongs to the remapped root too (dockerd's local driver does the same)
    for (const m of rec.mounts ?? []) {
      if (m.Type !== 'volume' || !m.Source) continue;
      const st = await stat(m.Source).catch(() => undefined);
      if (st?.isDirectory() && st.uid === 0 && st.gid === 0) await chown(m.Source, uid, gid).catch(() => {});
    }
    const walk = async (p: string): Promise<void> => {
      const st = await lstat(p);
      if (st.uid !== uid || st.gid !== gid) await chown(p, uid, gid).catch(() => {});
      if (st.isDirectory()) for (const n of await readdir(p)) await walk(join(p, n));
    };
    await walk(paths.init);
    const upper = await stat(paths.upper);
    if (upper.uid !== uid || upper.gid !== gid) await chown(paths.upper, uid, gid);
  }
}

function deviceOf(st: { mode: number; rdev: bigint; uid: number; gid: number }, inContainer: string, access?: string): ContainerDevice | undefined {
  const fmt = st.mode & S_IFMT;
  const type = fmt === S_IFCHR ? 'c' : fmt === S_IFBLK ? 'b' : fmt === S_IFIFO ? 'p' : undefined;
  if (!type) return undefined;
  const rdev = st.rdev;
  // glibc's gnu_dev_major / gnu_dev_minor
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { path: inContainer, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ...(access ? { access } : {}) };
}

async function bigStat(path: string, follow: boolean): Promise<{ mode: number; rdev: bigint; uid: number; gid: number; dir: boolean }> {
  const st = follow ? await stat(path, { bigint: true }) : await lstat(path, { bigint: true });
  return { mode: Number(st.mode), rdev: st.rdev, uid: Number(st.uid), gid: Number(st.gid), dir: st.isDirectory() };
}

/** A `--device` mapping: one device, or every device below a directory (moby's DevicesFromPath). */
export async function devicesFromPath(onHost: string, inContainer: string, access: string): Promise<ContainerDevice[]> {
  let st;
  try {
    st = await bigStat(onHost, true);
  } catch {
    throw new InvalidParameter('container.invalid_device', `error gathering device information while adding custom device "${onHost}": no such file or directory`);
  }
  if (!st.dir) {
    const d = deviceOf(st, inContainer, access);
    if (!d) throw new InvalidParameter('container.invalid_device', `error gathering device information while adding custom device "${onHost}": not a device node`);
    return [d];
  }
  const out: ContainerDevice[] = [];
  for (const name of await readdir(onHost)) {
    const sub = await devicesFromPath(join(onHost, name), join(inContainer, name), access).catch(() => []);
    out.push(...sub);
  }
  return out;
}

/** Every device node of the host, for --privileged (runc/containerd HostDevices: skips pts, shm, mqueue). */
export async function hostDevices(dir: string): Promise<ContainerDevice[]> {
  const out: ContainerDevice[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try {
      st = await bigStat(p, false);
    } catch {
      continue;
    }
    if (st.dir) {
      if (['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(name)) continue;
      out.push(...(await hostDevices(p)));
      continue;
    }
    if (name === 'console') continue;
    const d = deviceOf(st, p);
    if (d && d.type !== 'p') out.push(d);
  }
  return out;
}
