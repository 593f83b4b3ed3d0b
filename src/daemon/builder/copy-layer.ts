/**
 * The layer a COPY or ADD makes, written straight from the sources into the
 * content store as an uncompressed tar (no container, no copy on disk).
 * While writing it hashes what the cache compares: names, types, modes,
 * owners, link targets and contents, not mtimes (Docker's rule: touching a
 * file does not invalidate the cache, changing it does).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { headerDefaults, readTar, TarWriter, type TarEntryType, type TarHeader } from '../../lib/tar/index.js';
import type { ContentStore, WriteResult } from '../content/content-store.js';
import { decompressed } from '../layers/decompress.js';
import { cleanEntryPath } from '../layers/paths.js';
import type { Source } from './sources.js';

export interface CopyPlan {
  sources: Source[];
  /** Absolute path in the image. */
  dest: string;
  /** Sources go inside `dest` (it ends with `/`, names a directory, or there are several sources). */
  destIsDir: boolean;
  /** Directories on the way to `dest` that the image lacks (absolute), created 0755 root. */
  missingDirs: string[];
  owner?: { uid: number; gid: number };
  chmod?: number;
  /** ADD: local tar archives (any compression) are unpacked into `dest`. */
  extractArchives: boolean;
}

export interface CopyLayer {
  blob: WriteResult;
  /** The cache's view of the sources. */
  checksum: string;
}

export async function writeCopyLayer(plan: CopyPlan, content: ContentStore): Promise<CopyLayer> {
  const tar = new TarWriter();
  const hash = createHash('sha256');
  const w = content.writer();
  tar.stream.pipe(w);
  const writing = (async () => {
    for (const dir of plan.missingDirs) await add(tar, hash, headerDefaults({ name: `${rel(dir)}/`, type: 'dir', mode: 0o755, mtime: Math.floor(Date.now() / 1000) }));
    for (const src of plan.sources) {
      if (!src.isDir && plan.extractArchives && (await isArchive(src.abs))) {
        await addArchive(tar, hash, src.abs, plan.dest, plan);
        continue;
      }
      // a directory's contents go into dest; a file goes into dest, or is dest
      const target = src.isDir || !plan.destIsDir ? plan.dest : posix.join(plan.dest, posix.basename(src.rel));
      await addTree(tar, hash, src.abs, target, plan, src.isDir);
    }
    await tar.finish();
  })();
  try {
    await writing;
    await new Promise<void>((resolve, reject) => {
      if (w.writableFinished) resolve();
      else w.once('finish', resolve).once('error', reject);
    });
  } catch (err) {
    tar.abort(err as Error);
    await w.discard();
    throw err;
  }
  return { blob: await w.commit(), checksum: hash.digest('hex') };
}

function rel(abs: string): string {
  return abs.replace(/^\/+/, '');
}

async function add(tar: TarWriter, hash: Hash, h: TarHeader, body?: Readable): Promise<void> {
  hash.update(JSON.stringify([h.name, h.type, h.mode, h.uid, h.gid, h.size, h.linkname]));
  if (!body) return tar.add(h);
  await tar.add(h, body.pipe(new Transform({ transform(c: Buffer, _e, cb) { hash.update(c); cb(null, c); } })));
}

function typeOf(st: Awaited<ReturnType<typeof lstat>>): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined; // devices, fifos and sockets in a context are skipped, as Docker does
}

/** A file, link or directory; a directory's contents go under `target` (the directory itself becomes `target` unless it is `/`). */
async function addTree(tar: TarWriter, hash: Hash, abs: string, target: string, plan: CopyPlan, topIsDir: boolean): Promise<void> {
  const walk = async (hostPath: string, name: string, top: boolean): Promise<void> => {
    const st = await lstat(hostPath);
    const type = typeOf(st);
    if (!type) return;
    const mode = plan.chmod ?? (st.mode & 0o7777);
    const h = headerDefaults({
      name: type === 'dir' ? `${name}/` : name, type, mode,
      uid: plan.owner?.uid ?? 0, gid: plan.owner?.gid ?? 0,
      size: type === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000),
    });
    if (type === 'symlink') h.linkname = await readlink(hostPath);
    // COPY dir/ dest: the directory's own entry is dest itself (when it is not the root)
    if (!(top && type === 'dir' && name === '')) await add(tar, hash, h, type === 'file' ? createReadStream(hostPath) : undefined);
    if (type === 'dir') for (const child of (await readdir(hostPath)).sort()) await walk(posix.join(hostPath, child), name ? `${name}/${child}` : child, false);
  };
  await walk(abs, rel(target), topIsDir);
}

async function isArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
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
async function addArchive(tar: TarWriter, hash: Hash, abs: string, destDir: string, plan: CopyPlan): Promise<void> {
  const { stream } = await decompressed(createReadStream(abs));
  for await (const e of readTar(stream)) {
    const clean = cleanEntryPath(e.header.name, 'archive entry');
    if (clean === '') continue;
    const name = posix.join(rel(destDir), clean);
    const h: TarHeader = { ...e.header, name: e.header.type === 'dir' ? `${name}/` : name, ...(plan.owner ? { uid: plan.owner.uid, gid: plan.owner.gid } : {}) };
    if (e.header.type === 'link') h.linkname = posix.join(rel(destDir), cleanEntryPath(e.header.linkname, 'link target'));
    await add(tar, hash, h, e.header.type === 'file' ? Readable.from(e.body) : undefined);
  }
}
