/**
 * The local half of `cp` (go-archive copy.go as docker/cli uses it): tar a
 * host path with its top entry renamed, decide where an archive goes given
 * what the source and the destination are, rename entries in a stream, and
 * extract a container's archive into a host directory (never outside it).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, lstat, lutimes, mkdir, readdir, readlink, realpath, rm, stat, symlink, utimes } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getRebaseName, goBase, rebaseEntryName, splitPathDirEntry, assertsDirectory } from '../../../lib/copy-paths.js';
import { headerDefaults, readTar, TarWriter, type TarEntryType, type TarHeader } from '../../../lib/tar/index.js';

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/** A local error printed as docker prints it (no prefix). */
export class CopyError extends Error {}

/** go-archive CopyInfoSourcePath: the host source, symlinks in the directory part resolved (all of them with -L). */
export async function copyInfoSourcePath(path: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    const real = await realpath(path).catch((err: NodeJS.ErrnoException) => {
      throw new CopyError(`lstat ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
    });
    [resolved, rebaseName] = getRebaseName(path, real);
  } else {
    const dir = path.endsWith('/') ? path.replace(/\/+$/, '') : posix.dirname(path);
    const base = path.endsWith('/') ? '' : posix.basename(path);
    const realDir = await realpath(dir === '' ? '/' : dir).catch((err: NodeJS.ErrnoException) => {
      throw new CopyError(`lstat ${dir}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
    });
    resolved = base ? `${realDir === '/' ? '' : realDir}/${base}` : `${realDir}/`;
    if (path.endsWith('/') && goBase(path) !== goBase(resolved)) rebaseName = goBase(path);
  }
  const st = await lstat(resolved).catch(() => {
    throw new CopyError(`lstat ${resolved}: no such file or directory`);
  });
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** go-archive CopyInfoDestinationPath: follows a chain of symlinks; a missing path needs an existing parent directory. */
export async function copyInfoDestinationPath(path: string): Promise<CopyInfo> {
  let p = path;
  for (let n = 0; ; n++) {
    let st;
    try {
      st = await lstat(p);
    } catch {
      const [parent] = splitPathDirEntry(p);
      const pst = await stat(parent).catch((err: NodeJS.ErrnoException) => {
        throw new CopyError(`stat ${parent}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
      });
      if (!pst.isDirectory()) throw new CopyError('not a directory');
      return { path: p, exists: false, isDir: false, rebaseName: '' };
    }
    if (!st.isSymbolicLink()) return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
    if (n >= 10) throw new CopyError(`too many symlinks in ${path}`);
    const target = await readlink(p);
    p = target.startsWith('/') ? target : posix.join(splitPathDirEntry(p)[0], target);
  }
}

/**
 * go-archive PrepareArchiveCopy: the directory to extract into, and the
 * rename the archive needs so the copy lands where the user meant.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rebase?: [string, string] } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CopyError('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new CopyError('no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dstDir, rebase: [srcBase, dstBase] };
}

/** Renames entries below `oldBase` to `newBase` in a tar stream. */
export function rebaseArchive(source: AsyncIterable<Buffer>, oldBase: string, newBase: string): Readable {
  const out = new TarWriter();
  void (async () => {
    try {
      for await (const e of readTar(source)) {
        const h: TarHeader = { ...e.header, name: rebaseEntryName(e.header.name, oldBase, newBase) };
        if (h.type === 'link') h.linkname = rebaseEntryName(h.linkname, oldBase, newBase);
        await out.add(h, h.type === 'file' ? e.body : undefined);
      }
      await out.finish();
    } catch (err) {
      out.abort(err as Error);
    }
  })();
  return out.stream;
}

function entryType(st: Awaited<ReturnType<typeof lstat>>): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined;
}

/** go-archive TarResourceRebase: a tar of `path` whose top entry is named `rebaseName` (or its own base name). */
export function tarLocal(path: string, rebaseName: string): Readable {
  const [dir, base] = splitPathDirEntry(path);
  return streamTar((tar) => addTree(tar, base === '.' ? dir : join(dir, base), rebaseName || base, new Map()));
}

/** A tar of a directory's contents (names relative to it), leaving out what `skip` names (a build context). */
export function tarDirectory(dir: string, skip: (name: string, isDir: boolean) => boolean): Readable {
  return streamTar(async (tar) => {
    const seen = new Map<string, string>();
    for (const child of (await readdir(dir)).sort()) await addTree(tar, join(dir, child), child, seen, skip);
  });
}

function streamTar(fill: (tar: TarWriter) => Promise<void>): Readable {
  const tar = new TarWriter();
  void (async () => {
    try {
      await fill(tar);
      await tar.finish();
    } catch (err) {
      tar.abort(err as Error);
    }
  })();
  return tar.stream;
}

async function addTree(tar: TarWriter, hostPath: string, name: string, seen: Map<string, string>, skip?: (name: string, isDir: boolean) => boolean): Promise<void> {
  const st = await lstat(hostPath);
  const type = entryType(st);
  if (!type || skip?.(name, type === 'dir')) return;
  const h = headerDefaults({
    name: type === 'dir' ? `${name}/` : name, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid,
    size: type === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000),
    ...(type === 'char' || type === 'block' ? { devmajor: Math.floor(st.rdev / 256), devminor: st.rdev % 256 } : {}),
  });
  if (type === 'file' && st.nlink > 1) {
    const first = seen.get(`${st.dev}:${st.ino}`);
    if (first) return tar.add({ ...h, type: 'link', linkname: first, size: 0 });
    seen.set(`${st.dev}:${st.ino}`, name);
  }
  if (type === 'symlink') h.linkname = await readlink(hostPath);
  await tar.add(h, type === 'file' ? createReadStream(hostPath) : undefined);
  if (type === 'dir') for (const child of (await readdir(hostPath)).sort()) await addTree(tar, join(hostPath, child), `${name}/${child}`, seen, skip);
}

function cleanName(raw: string): string | undefined {
  const name = posix.normalize(raw.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (name === '.' || name === '') return undefined;
  if (name === '..' || name.startsWith('../')) throw new CopyError(`invalid entry name "${raw}"`);
  return name;
}

/**
 * Extracts a container's archive into the host directory `dst` (go-archive
 * Untar with NoLchown and NoOverwriteDirNonDir). Entries may not reach
 * outside `dst`, not even through symlinks the archive itself makes.
 */
export async function extractLocal(source: AsyncIterable<Buffer>, dst: string): Promise<void> {
  const root = await realpath(dst);
  const dirTimes: [string, number][] = [];
  for await (const e of readTar(source)) {
    const h = e.header;
    const name = cleanName(h.name);
    if (name === undefined) continue;
    const target = join(root, name);
    const parent = await realpath(dirname(target)).catch(async () => {
      await mkdir(dirname(target), { recursive: true });
      return realpath(dirname(target));
    });
    if (parent !== root && !parent.startsWith(`${root}/`)) throw new CopyError(`resolved parent "${parent}" escapes root "${root}"`);
    const path = join(parent, posix.basename(name));
    const existing = await lstat(path).catch(() => undefined);
    if (existing?.isDirectory() && h.type !== 'dir') throw new CopyError(`cannot overwrite directory "${name}" with non-directory "${dst}"`);
    if (existing && !existing.isDirectory() && h.type === 'dir') throw new CopyError(`cannot overwrite non-directory "${name}" with directory "${dst}"`);
    if (existing && !(existing.isDirectory() && h.type === 'dir')) await rm(path, { recursive: true, force: true });
    switch (h.type) {
      case 'dir':
        if (!existing) await mkdir(path, h.mode & 0o777);
        await chmod(path, h.mode & 0o7777);
        dirTimes.push([path, h.mtime]);
        break;
      case 'file':
        await pipeline(e.body, createWriteStream(path, { mode: h.mode & 0o777, flags: 'wx' }));
        await chmod(path, h.mode & 0o7777);
        await utimes(path, h.mtime, h.mtime);
        break;
      case 'symlink':
        await symlink(h.linkname, path);
        await lutimes(path, h.mtime, h.mtime).catch(() => {});
        break;
      case 'link': {
        const t = cleanName(h.linkname);
        if (t === undefined) throw new CopyError(`invalid hardlink target "${h.linkname}"`);
        const tparent = await realpath(dirname(join(root, t)));
        if (tparent !== root && !tparent.startsWith(`${root}/`)) throw new CopyError(`invalid hardlink target "${h.linkname}"`);
        await link(join(tparent, posix.basename(t)), path);
        break;
      }
      default:
        // device nodes and FIFOs need privileges the client may not have: skipped
        break;
    }
  }
  for (const [p, mtime] of dirTimes.reverse()) await utimes(p, mtime, mtime).catch(() => {});
}
