/**
 * What `RUN --mount` needs on the host, made just before the step's
 * container starts and taken down after it:
 *
 *   <cacheRoot>/                    type=cache, kept across builds until `builder prune`
 *     <sha256(id)>/                 one directory per cache id (the target when no id)
 *   <work>/run-<n>/                 per step, removed with the build's work dir
 *     secret-<i>                    a secret's value (mode/uid/gid as asked), bound read-only
 *     rw-<i>/                       a copy of a `bind,rw` source: writes land here and are dropped
 *
 * Secrets are bound from files outside the container's rootfs, so they
 * never reach the layer the step captures.
 */
import { createHash } from '../../lib/lazy-crypto.js';
import { chmod, chown, cp, lstat, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { MountSpec } from '../../api/types/index.js';
import { InvalidParameter, NotFound } from '../../errdefs/index.js';
import { resolveInRoot } from '../../lib/scoped-path.js';
import type { RunMount } from './run-mounts.js';

export interface MountSetupDeps {
  cacheRoot: string;
  /** A fresh per-step directory for secrets and rw copies. */
  stepDir: string;
  secrets: Map<string, Buffer>;
  /** The root a `from` names (a stage or an image), or the build context without one. */
  rootOf(from: string | undefined): Promise<string>;
}

export interface PreparedMounts {
  mounts: MountSpec[];
  env: string[];
  release(): void;
}

/** sharing=locked: one user of a cache id at a time, in this daemon. */
const cacheLocks = new Map<string, Promise<void>>();
/** sharing=private: ids in use; a second user gets a throwaway directory instead. */
const cacheInUse = new Set<string>();

export function cacheDirName(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export async function prepareMounts(list: RunMount[], d: MountSetupDeps): Promise<PreparedMounts> {
  const mounts: MountSpec[] = [];
  const env: string[] = [];
  const releases: (() => void)[] = [];
  await mkdir(d.stepDir, { recursive: true });
  try {
    for (const [i, m] of list.entries()) {
      switch (m.type) {
        case 'tmpfs':
          mounts.push({ Type: 'tmpfs', Target: m.target, ...(m.size ? { TmpfsOptions: { SizeBytes: m.size } } : {}) });
          break;
        case 'bind': {
          const root = await d.rootOf(m.from);
          let src = await resolveInRoot(root, m.source || '/');
          await lstat(src).catch(() => {
            throw new NotFound('build.mount_source', `failed to compute cache key: "${m.source}" not found`);
          });
          if (m.rw) {
            // rw writes are discarded: the container writes into a copy
            const copy = join(d.stepDir, `rw-${i}`);
            await cp(src, copy, { recursive: true, verbatimSymlinks: true });
            src = copy;
          }
          mounts.push({ Type: 'bind', Source: src, Target: m.target, ReadOnly: !m.rw });
          break;
        }
        case 'cache': {
          let dir = join(d.cacheRoot, cacheDirName(m.id));
          if (m.sharing === 'locked') {
            const prev = cacheLocks.get(dir) ?? Promise.resolve();
            let unlock!: () => void;
            const mine = new Promise<void>((r) => (unlock = r));
            const chained = prev.then(() => mine);
            cacheLocks.set(dir, chained);
            await prev;
            releases.push(() => { unlock(); if (cacheLocks.get(dir) === chained) cacheLocks.delete(dir); });
          } else if (m.sharing === 'private') {
            if (cacheInUse.has(dir)) dir = join(d.stepDir, `cache-${i}`);
            else {
              const held = dir;
              cacheInUse.add(held);
              releases.push(() => cacheInUse.delete(held));
            }
          }
          if (!(await exists(dir))) await createCacheDir(dir, m, d);
          mounts.push({ Type: 'bind', Source: dir, Target: m.target, ReadOnly: m.ro });
          break;
        }
        case 'secret': {
          const value = d.secrets.get(m.id);
          if (value === undefined) {
            if (m.required) throw new InvalidParameter('build.secret_missing', `secret ${m.id}: not found`);
            break;
          }
          if (m.env) env.push(`${m.env}=${value.toString('utf8')}`);
          if (m.target) {
            const file = join(d.stepDir, `secret-${i}`);
            await writeFile(file, value, { mode: 0o600 });
            await chown(file, m.uid, m.gid);
            await chmod(file, m.mode);
            mounts.push({ Type: 'bind', Source: file, Target: m.target, ReadOnly: true });
          }
          break;
        }
      }
    }
  } catch (err) {
    for (const r of releases) r();
    throw err;
  }
  return { mounts, env, release: () => { for (const r of releases) r(); } };
}

/** A new cache directory: empty (mode/uid/gid as asked), or seeded from `from`'s `source`. */
async function createCacheDir(dir: string, m: Extract<RunMount, { type: 'cache' }>, d: MountSetupDeps): Promise<void> {
  await mkdir(posix.dirname(dir), { recursive: true, mode: 0o700 });
  const partial = `${dir}.new-${process.pid}-${Date.now()}`;
  if (m.from) {
    const src = await resolveInRoot(await d.rootOf(m.from), m.source || '/');
    await cp(src, partial, { recursive: true, verbatimSymlinks: true });
  } else {
    await mkdir(partial);
    await chown(partial, m.uid, m.gid);
    await chmod(partial, m.mode);
  }
  await rename(partial, dir).catch(async () => rm(partial, { recursive: true, force: true })); // another build made it first
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** `builder prune`: every cache mount's directory goes; the bytes they held. */
/** A cache directory a running step holds (locked or private). */
export function cacheMountInUse(dir: string): boolean {
  return cacheLocks.has(dir) || cacheInUse.has(dir);
}

/** The cache directories kept across builds, with their size and times. */
export async function listCacheMounts(cacheRoot: string): Promise<{ name: string; dir: string; size: number; created: number; modified: number }[]> {
  const names = await readdir(cacheRoot).catch(() => [] as string[]);
  const out = [];
  for (const name of names) {
    const dir = join(cacheRoot, name);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    out.push({ name, dir, size: await duBytes(dir), created: st.birthtimeMs || st.ctimeMs, modified: st.mtimeMs });
  }
  return out;
}

async function duBytes(p: string): Promise<number> {
  const st = await lstat(p).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const c of await readdir(p)) n += await duBytes(join(p, c));
  return n;
}
