/**
 * The layer a COPY or ADD makes, written straight from the sources into the
 * content store as an uncompressed tar (no container, no copy on disk).
 * While writing it hashes what the cache compares: names, types, modes,
 * owners, link targets and contents, not mtimes (Docker's rule: touching a
 * file does not invalidate the cache, changing it does).
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { tee } from '../../lib/streams.js';
import { headerDefaults, readTar, TarWriter, type TarEntryType, type TarHeader } from '../../lib/tar/index.js';
import type { Digest } from '../../oci/digest.js';
import type { ContentStore, WriteResult } from '../content/content-store.js';
import { decompressed } from '../layers/decompress.js';
import { cleanEntryPath } from '../layers/paths.js';
import type { ContentHashes } from './context.js';
import type { Source } from './sources.js';
import type { ModeChange } from './chmod.js';

export interface CopyPlan {
  sources: Source[];
  /** Absolute path in the image. */
  dest: string;
  /** Sources go inside `dest` (it ends with `/`, names a directory, or there are several sources). */
  destIsDir: boolean;
  /** Directories on the way to `dest` that the image lacks (absolute), created 0755 root. */
  missingDirs: string[];
  owner?: { uid: number; gid: number };
  /** --chmod: octal or symbolic, applied to each entry's own mode. */
  chmod?: ModeChange;
  /** --exclude: is this path (relative to the source being copied) left out? */
  exclude?: (rel: string) => boolean;
  /** --parents: where each source lands below `dest` (its path from the context root or the `/./` pivot). */
  parentsOf?: (src: Source) => string;
  /** ADD: local tar archives (any compression) are unpacked into `dest`. */
  extractArchives: boolean;
  /** A context file's bytes still held in memory (its file on disk is a placeholder): read from here. */
  heldBody?: (hostPath: string) => Readable | undefined;
}

export interface CopyLayer {
  blob: WriteResult;
  /** The cache's view of the sources. */
  checksum: string;
}

/**
 * The cache's view of the sources, writing nothing: files whose content
 * hash is `known` (the context, hashed as it was unpacked) are not read.
 */
export async function copyChecksum(plan: CopyPlan, known: ContentHashes = new Map()): Promise<string> {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return (await produce(plan, sink, known)).checksum;
}

/**
 * A cache miss, stored and unpacked at once: the tar goes to the content
 * store (for save and push) and into the layer store as it is made, instead
 * of being written whole and read back.
 */
export async function storeCopyLayer<L extends { diffId: Digest }>(plan: CopyPlan, content: ContentStore, apply: (tar: Readable) => Promise<L>): Promise<{ blob: WriteResult; layer: L }> {
  // the layer store hashes the tar for its diffID, which is the blob's digest (uncompressed): one hash, not two
  const w = content.writer({ hashedAlongside: true });
  const made = new PassThrough({ highWaterMark: 1 << 20 });
  const toLayer = new PassThrough({ highWaterMark: 1 << 20 });
  const stored = new Promise<void>((resolve, reject) => {
    w.once('finish', resolve).once('error', reject);
  });
  try {
    // the cache key was taken before (copyChecksum): the bytes are hashed by the two stores only
    const [, , layer] = await Promise.all([produce(plan, made, undefined, false), tee(made, [w, toLayer]), apply(toLayer), stored]);
    return { blob: await w.commit({ digest: layer.diffId }), layer };
  } catch (err) {
    // the failure is thrown below: the streams' own 'error' events, unheard, would end the daemon
    for (const s of [made, toLayer]) s.on('error', () => {}).destroy(err as Error);
    await w.discard();
    throw err;
  }
}

/** `checksum` false: the tar only, its contents not hashed (a pass over every byte saved). */
async function produce(plan: CopyPlan, out: Writable, known?: ContentHashes, checksum = true): Promise<{ checksum: string }> {
  const tar = new TarWriter();
  const hash = createHash('sha256');
  const add = (h: TarHeader, body?: Readable, hostPath?: string) => checksum
    ? addEntry(tar, hash, h, body, hostPath !== undefined ? known?.get(hostPath) : undefined)
    : tar.add(h, body);
  // a failure reaches the caller as produce()'s rejection; the aborted stream's own event must not go unheard
  tar.stream.on('error', () => {}).pipe(out);
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve).once('error', reject);
  });
  done.catch(() => {}); // awaited below; when an entry fails first, `out`'s later error must not be an unhandled rejection
  try {
    for (const dir of plan.missingDirs) await add(headerDefaults({ name: `${rel(dir)}/`, type: 'dir', mode: 0o755, mtime: Math.floor(Date.now() / 1000) }));
    for (const src of plan.sources) {
      if (!src.isDir && plan.extractArchives && (await isArchive(src.abs))) {
        await addArchive(add, src.abs, plan.dest, plan);
        continue;
      }
      // a directory's contents go into dest; a file goes into dest, or is dest
      const target = plan.parentsOf ? posix.join(plan.dest, plan.parentsOf(src))
        : src.isDir || !plan.destIsDir ? plan.dest : posix.join(plan.dest, posix.basename(src.rel));
      await addTree(add, src.abs, target, plan, src.isDir);
    }
    await tar.finish();
    await done;
  } catch (err) {
    tar.abort(err as Error);
    throw err;
  }
  return { checksum: hash.digest('hex') };
}

function rel(abs: string): string {
  return abs.replace(/^\/+/, '');
}

type AddEntry = (h: TarHeader, body?: Readable, hostPath?: string) => Promise<void>;

/**
 * One entry into the tar and the checksum. The checksum takes each file's
 * content hash: `knownHash` when given (and then, writing to the null sink,
 * the body is not read at all), else hashed as it streams.
 */
async function addEntry(tar: TarWriter, hash: Hash, h: TarHeader, body: Readable | undefined, knownHash: string | undefined): Promise<void> {
  hash.update(JSON.stringify([h.name, h.type, h.mode, h.uid, h.gid, h.size, h.linkname]));
  if (!body) return tar.add(h);
  if (knownHash) {
    hash.update(knownHash);
    body.destroy();
    return tar.add({ ...h, size: 0 }); // only the checksum pass knows hashes; its tar goes nowhere
  }
  const content = createHash('sha256');
  await tar.add(h, body.pipe(new Transform({ transform(c: Buffer, _e, cb) { content.update(c); cb(null, c); } })));
  hash.update(content.digest('hex'));
}

function typeOf(st: Awaited<ReturnType<typeof lstat>>): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined; // devices, fifos and sockets in a context are skipped, as Docker does
}

/** A file, link or directory; a directory's contents go under `target` (the directory itself becomes `target` unless it is `/`). */
async function addTree(add: AddEntry, abs: string, target: string, plan: CopyPlan, topIsDir: boolean): Promise<void> {
  const walk = async (hostPath: string, name: string, top: boolean, inSource: string): Promise<void> => {
    if (!top && plan.exclude?.(inSource)) return;
    const st = await lstat(hostPath);
    const type = typeOf(st);
    if (!type) return;
    const mode = plan.chmod ? plan.chmod(st.mode & 0o7777, type === 'dir') : (st.mode & 0o7777);
    const h = headerDefaults({
      name: type === 'dir' ? `${name}/` : name, type, mode,
      uid: plan.owner?.uid ?? 0, gid: plan.owner?.gid ?? 0,
      size: type === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000),
    });
    if (type === 'symlink') h.linkname = await readlink(hostPath);
    // COPY dir/ dest: the directory's own entry is dest itself (when it is not the root)
    const body = async () => plan.heldBody?.(hostPath) ?? (await open(hostPath, READ_NOFOLLOW)).createReadStream({ highWaterMark: 1 << 20 });
    if (!(top && type === 'dir' && name === '')) await add(h, type === 'file' ? await body() : undefined, hostPath);
    if (type === 'dir') {
      for (const child of (await readdir(hostPath)).sort()) {
        await walk(posix.join(hostPath, child), name ? `${name}/${child}` : child, false, inSource ? `${inSource}/${child}` : child);
      }
    }
  };
  await walk(abs, rel(target), topIsDir, '');
}

/**
 * Sources are read without following a final symlink: the context is a
 * stranger's, and `loot.tgz -> /etc/...` must not read a host file.
 */
const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Only a regular file can be an archive: a symlink to one is copied as the symlink, as Docker does. */
async function isArchive(path: string): Promise<boolean> {
  if (!(await lstat(path)).isFile()) return false;
  const fh = await open(path, READ_NOFOLLOW);
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 3 && (head[0] === 0x1f && head[1] === 0x8b || head.subarray(0, 3).toString('latin1') === 'BZh')) return true;
    if (bytesRead >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
    if (bytesRead >= 4 && head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true;
    return bytesRead === 512 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/** ADD of a local archive: its entries land under `destDir`, names cleaned (nothing climbs out). */
async function addArchive(add: AddEntry, abs: string, destDir: string, plan: CopyPlan): Promise<void> {
  const { stream } = await decompressed((await open(abs, READ_NOFOLLOW)).createReadStream());
  for await (const e of readTar(stream)) {
    const clean = cleanEntryPath(e.header.name, 'archive entry');
    if (clean === '') continue;
    const name = posix.join(rel(destDir), clean);
    const h: TarHeader = { ...e.header, name: e.header.type === 'dir' ? `${name}/` : name, ...(plan.owner ? { uid: plan.owner.uid, gid: plan.owner.gid } : {}) };
    if (e.header.type === 'link') h.linkname = posix.join(rel(destDir), cleanEntryPath(e.header.linkname, 'link target'));
    await add(h, e.header.type === 'file' ? Readable.from(e.body) : undefined);
  }
}
