/**
 * The client half of `berth build`'s incremental context: the context
 * directory walked as the tar would carry it, each regular file's sha256,
 * with the digests cached between builds so an unchanged tree is not read:
 *
 *   ${XDG_CACHE_HOME:-~/.cache}/berth/context-digests.json
 *     {"<absolute path>": [size, mtimeNs, ctimeNs, inode, "<hex>"]}
 *
 * A file whose size, mtime, ctime or inode moved is read and hashed again.
 */
import { createReadStream, type BigIntStats } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { headerDefaults, type TarHeader } from '../lib/tar/index.js';

export interface ContextEntry {
  header: TarHeader;
  /** Regular files: where to read the bytes, and their sha256 (hex) once hashed. */
  hostPath?: string;
  hex?: string;
  /** Regular files: what the walk saw (the digest cache's key). */
  stat?: BigIntStats;
}

type CachedDigest = [number, string, string, string, string];

/** Entries the cache keeps past those of the context just walked. */
const MAX_CACHED = 200_000;

export function digestCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'berth', 'context-digests.json');
}

/** The context's entries in tar order (sorted names, parents first), skipping what `.dockerignore` leaves out. */
export async function walkContext(dir: string, skip: (name: string, isDir: boolean) => boolean): Promise<ContextEntry[]> {
  const out: ContextEntry[] = [];
  const seen = new Map<string, string>();
  // a directory's children are looked at all at once (a context of many small files is mostly stat
  // latency), then taken in name order, so the entries and the first name of each hard link stay the same
  const visitDir = async (hostDir: string, prefix: string): Promise<void> => {
    const names = (await readdir(hostDir)).sort();
    const stats = await Promise.all(names.map((n) => lstat(join(hostDir, n), { bigint: true })));
    for (let i = 0; i < names.length; i++) await take(join(hostDir, names[i]!), `${prefix}${names[i]!}`, stats[i]!);
  };
  const take = async (hostPath: string, name: string, st: BigIntStats): Promise<void> => {
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : undefined;
    if (!type || skip(name, type === 'dir')) return;
    const header = headerDefaults({
      name: type === 'dir' ? `${name}/` : name, type, mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid),
      size: type === 'file' ? Number(st.size) : 0, mtime: Math.floor(Number(st.mtimeMs) / 1000),
    });
    if (type === 'file' && st.nlink > 1n) {
      const first = seen.get(`${st.dev}:${st.ino}`);
      if (first) {
        out.push({ header: { ...header, type: 'link', linkname: first, size: 0 } });
        return;
      }
      seen.set(`${st.dev}:${st.ino}`, name);
    }
    if (type === 'symlink') header.linkname = await readlink(hostPath);
    out.push(type === 'file' ? { header, hostPath, stat: st } : { header });
    if (type === 'dir') await visitDir(hostPath, `${name}/`);
  };
  await visitDir(dir, '');
  return out;
}

/** The digest cache, read while the context is walked. */
export function readDigestCache(cacheFile = digestCacheFile()): Promise<Record<string, CachedDigest>> {
  // never rejects (no file, or one cut short): a build it cannot help hashes again
  return readFile(cacheFile, 'utf8').then((t) => JSON.parse(t) as Record<string, CachedDigest>).catch(() => ({} as Record<string, CachedDigest>));
}

/** Fills in each file's digest, from the cache when its size, times and inode are as they were. */
export async function hashEntries(entries: ContextEntry[], cacheFile = digestCacheFile(), cached = readDigestCache(cacheFile)): Promise<void> {
  const cache = await cached;
  const fresh: Record<string, CachedDigest> = {};
  let changed = false;
  const files = entries.filter((e) => e.hostPath);
  // a few files at a time: small files are dominated by open/close latency
  let next = 0;
  const worker = async () => {
    for (let e = files[next++]; e; e = files[next++]) {
      const path = e.hostPath!;
      const st = e.stat ?? await lstat(path, { bigint: true });
      const key: CachedDigest = [Number(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino), ''];
      const hit = cache[path];
      if (hit && hit[0] === key[0] && hit[1] === key[1] && hit[2] === key[2] && hit[3] === key[3]) {
        e.hex = hit[4];
      } else {
        e.hex = await sha256File(path);
        changed = true;
      }
      fresh[path] = [key[0], key[1], key[2], key[3], e.hex];
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (!changed) return;
  const kept = Object.entries(cache).filter(([p]) => !(p in fresh)).slice(-Math.max(0, MAX_CACHED - Object.keys(fresh).length));
  await saveCache(cacheFile, { ...Object.fromEntries(kept), ...fresh }).catch(() => {}); // only a cache: the next build hashes again
}

/** Which files carry their bytes: the first file of each digest the daemon lacks; the others refer to it. */
export function filesToSend(entries: ContextEntry[], missing: Set<string>): Set<ContextEntry> {
  const out = new Set<ContextEntry>();
  const sent = new Set<string>();
  for (const e of entries) {
    if (!e.hex || !missing.has(e.hex) || sent.has(e.hex)) continue;
    sent.add(e.hex);
    out.add(e);
  }
  return out;
}

async function sha256File(path: string): Promise<string> {
  // crypto loaded on first use: a build whose files are all in the cache hashes nothing
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(c as Buffer);
  return hash.digest('hex');
}

async function saveCache(file: string, v: Record<string, CachedDigest>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(v));
  await rename(tmp, file);
}
