/**
 * A task's secrets and configs as files for its container, for the agent
 * that starts the container (the services code):
 *
 *   const refs = spec.TaskTemplate.ContainerSpec;                   // Engine API references
 *   const files = await resolveTaskFiles(refs, { secret: (id) => swarm.secrets.data(id), config: (id) => swarm.configs.data(id) });
 *   const made = await materializeTaskFiles(containerStateDir, files);
 *   userMounts.push(...made.mounts);                               // into the OCI spec (containers/spec.ts)
 *   ...when the container is removed (or its start failed):
 *   await made.cleanup();                                          // or cleanupTaskFiles(containerStateDir) after a restart
 *
 * On disk, nothing but a tmpfs (plaintext never reaches a disk):
 *
 *   <containerStateDir>/swarm-files/     tmpfs, mode 0700, nosuid,nodev,noexec, remounted read-only once written
 *     secrets/<n>-<secret id>            File.Mode, File.UID:File.GID   -> bind-mounted read-only at /run/secrets/<File.Name>
 *     configs/<n>-<config id>            File.Mode, File.UID:File.GID   -> bind-mounted read-only at /<File.Name>
 *
 * Targets are Docker's (moby container/container_unix.go): a relative
 * `File.Name` goes under /run/secrets (secrets) or / (configs); an absolute
 * one is used as it is. `<n>` (the reference's position) lets one secret be
 * mounted twice with different names or modes.
 */
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';
import { mount, mountsUnder, unmount } from '../../lib/mount.js';
import type { SpecMount } from '../../oci/runtime-spec.js';

export const SECRETS_MOUNT_PATH = '/run/secrets';
export const CONFIGS_MOUNT_PATH = '/';
export const TASK_FILES_DIR = 'swarm-files';

/** `File` of an Engine API SecretReference / ConfigReference. */
export interface FileTarget {
  Name: string;
  UID?: string;
  GID?: string;
  Mode?: number;
}

export interface SecretReference {
  SecretID: string;
  SecretName?: string;
  File?: FileTarget;
}

export interface ConfigReference {
  ConfigID: string;
  ConfigName?: string;
  /** A config with `Runtime` instead of `File` (a credential spec) is no file. */
  File?: FileTarget;
  Runtime?: Record<string, never>;
}

export interface TaskFile {
  kind: 'secret' | 'config';
  id: string;
  target: FileTarget;
  data: Buffer;
}

/** Where a reference's file appears in the container. */
export function targetPath(kind: 'secret' | 'config', name: string): string {
  if (posix.isAbsolute(name)) return posix.normalize(name);
  return posix.join(kind === 'secret' ? SECRETS_MOUNT_PATH : CONFIGS_MOUNT_PATH, name);
}

/** Fetches the data of each referenced secret and config (references without `File` make no file). */
export async function resolveTaskFiles(
  refs: { Secrets?: SecretReference[] | null; Configs?: ConfigReference[] | null },
  source: { secret(id: string): Promise<Buffer>; config(id: string): Promise<Buffer> },
): Promise<TaskFile[]> {
  const out: TaskFile[] = [];
  for (const s of refs.Secrets ?? []) if (s.File) out.push({ kind: 'secret', id: s.SecretID, target: s.File, data: await source.secret(s.SecretID) });
  for (const c of refs.Configs ?? []) if (c.File) out.push({ kind: 'config', id: c.ConfigID, target: c.File, data: await source.config(c.ConfigID) });
  return out;
}

function numericId(v: string | undefined, what: string): number {
  const n = Number(v ?? '0');
  if (!/^\d+$/.test(v ?? '0') || n > 0xffffffff) throw new InvalidParameter('swarm.invalid_file_target', `invalid ${what} '${v}' for a secret or config file: a numeric id is needed`);
  return n;
}

export interface MaterializedFiles {
  /** Read-only binds for the container's OCI spec, one per file. */
  mounts: SpecMount[];
  /** Unmounts the tmpfs and removes its directory; safe to call twice. */
  cleanup(): Promise<void>;
}

/**
 * Writes `files` into a fresh tmpfs under the container's state dir and
 * returns the binds that show them in the container. On any failure the
 * tmpfs is gone again before the error is thrown.
 */
export async function materializeTaskFiles(containerStateDir: string, files: TaskFile[]): Promise<MaterializedFiles> {
  const dir = join(containerStateDir, TASK_FILES_DIR);
  const cleanup = () => cleanupTaskFiles(containerStateDir);
  if (files.length === 0) return { mounts: [], cleanup };
  const plan = files.map((f, n) => ({
    ...f,
    uid: numericId(f.target.UID, 'uid'),
    gid: numericId(f.target.GID, 'gid'),
    mode: (f.target.Mode ?? 0o444) & 0o7777,
    source: join(dir, `${f.kind}s`, `${n}-${f.id}`),
    destination: targetPath(f.kind, f.target.Name),
  }));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await mount({ type: 'tmpfs', source: 'tmpfs', options: ['mode=0700', 'nosuid', 'nodev', 'noexec'] }, dir);
    for (const sub of new Set(plan.map((p) => join(dir, `${p.kind}s`)))) await mkdir(sub, { mode: 0o700 });
    for (const p of plan) {
      await writeFile(p.source, p.data, { mode: 0o600 });
      await chown(p.source, p.uid, p.gid);
      await chmod(p.source, p.mode); // after chown, which clears set-id bits
    }
    await mount({ type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro', 'nosuid', 'nodev', 'noexec'] }, dir);
  } catch (err) {
    await cleanup().catch(() => {});
    throw err;
  }
  return { mounts: plan.map((p) => ({ destination: p.destination, type: 'bind', source: p.source, options: ['rbind', 'ro', 'rprivate'] })), cleanup };
}

/** Unmounts a container's secret tmpfs (if mounted) and removes its directory: after removal, a failed start or a daemon restart. */
export async function cleanupTaskFiles(containerStateDir: string): Promise<void> {
  const dir = join(containerStateDir, TASK_FILES_DIR);
  for (const m of await mountsUnder(dir)) {
    await unmount(m).catch(() => unmount(m, true));
  }
  await rm(dir, { recursive: true, force: true });
}
