/**
 * Unpacks one layer tar into an empty directory for use as an overlay lower
 * dir. Entries are checked and translated here, in a stream; GNU tar does
 * the disk work (ownership, modes, xattrs, devices, hard links).
 *
 * Translations (OCI layer form → overlayfs form):
 *   dir/.wh.name        → character device 0:0 at dir/name
 *   dir/.wh..wh..opq    → xattr trusted.overlay.opaque=y on dir
 * Refused: names or hard-link targets climbing out of the root, and any
 * entry (or link target) reached through a symlink of the same layer.
 * Dropped: xattrs in overlayfs's own namespace (trusted.overlay.*: redirect,
 * origin, metacopy, opaque) as a layer carries them, which would steer the
 * kernel's overlay lookups; only the opaque marker made from `.wh..wh..opq`
 * is set. LIBARCHIVE.xattr records (name-encoded) are dropped as well.
 */
import { spawn } from 'node:child_process';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameter } from '../../errdefs/index.js';
import { Digester, type Digest } from '../../oci/digest.js';
import { headerDefaults, readTar, TarFormatError, TarWriter, type TarHeader } from '../../lib/tar/index.js';
import { shiftOwner, type IdMap } from '../../lib/id-map.js';
import { ancestors, cleanEntryPath, OPAQUE_WHITEOUT, UnsafeLayerPathError, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX } from './paths.js';

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface AppliedLayer {
  diffId: Digest;
  /** Bytes of regular files in the layer. */
  size: number;
  /** Bytes of the uncompressed layer tar. */
  tarSize: number;
}

export class InvalidLayerError extends InvalidParameter {}

export interface ApplyOptions {
  /** userns-remap: owners are shifted to the host ids the container ids map to. */
  idMap?: IdMap;
  /** Bytes of the uncompressed tar; past it the layer is refused. */
  maxBytes?: number;
  /**
   * 'overlay' (default): whiteouts become overlayfs's (a 0:0 device, an
   * xattr; root only). 'oci': they stay as the tar has them, `.wh.` files,
   * for a store that applies them itself (copy-layer-store.ts).
   */
  whiteouts?: 'overlay' | 'oci';
}

/** Extracts `tar` (uncompressed) into `dir`, which must exist and be empty. */
export async function applyLayer(tar: Readable, dir: string, opts: ApplyOptions = {}): Promise<AppliedLayer> {
  const digester = new Digester();
  // without root, owners cannot be kept: files belong to whoever unpacks (the copy store in unit tests)
  const owners = process.getuid?.() === 0 ? ['--same-owner'] : ['--no-same-owner'];
  const child = spawn('tar', [
    '-x', '-f', '-', '-C', dir, '--numeric-owner', ...owners, '--same-permissions',
    '--xattrs', '--xattrs-include=*', '--delay-directory-restore', '--warning=no-unknown-keyword',
    '--warning=no-timestamp',
  ], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const out = new TarWriter();
  const toTar = pipeline(out.stream, child.stdin).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const hashing = opts.maxBytes ? pipeline(tar, byteLimit(opts.maxBytes), digester) : pipeline(tar, digester);
  // both are awaited below, but either can fail while translate() still waits (a layer past max-layer-size):
  // without a handler by then, that is an unhandled rejection, which ends the daemon
  hashing.catch(() => {});
  toTar.catch(() => {});
  try {
    const size = await translate(digester, out, opts.idMap, opts.whiteouts ?? 'overlay');
    await Promise.all([hashing, toTar]);
    const code = await exited;
    if (code !== 0) throw new InvalidLayerError('layer.extract_failed', `failed to extract layer: ${stderr.trim() || `tar exited with ${code}`}`);
    return { diffId: digester.digest(), size, tarSize: digester.size };
  } catch (err) {
    tar.destroy();
    digester.destroy();
    out.abort(err as Error);
    child.kill('SIGKILL');
    const [, , code] = await Promise.allSettled([hashing, toTar, exited]);
    if (err instanceof TarFormatError) throw new InvalidLayerError('layer.invalid_tar', `invalid layer tar: ${err.message}`);
    if (err instanceof InvalidParameter) throw err;
    // a write error towards tar usually means tar itself failed: its message says why
    if (code.status === 'fulfilled' && code.value !== 0 && stderr.trim()) {
      throw new InvalidLayerError('layer.extract_failed', `failed to extract layer: ${stderr.trim()}`);
    }
    throw err;
  }
}

function byteLimit(max: number): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (source) {
    let seen = 0;
    for await (const c of source) {
      seen += c.length;
      if (seen > max) throw new InvalidLayerError('layer.too_large', `layer is larger than the daemon's max-layer-size of ${max} bytes (uncompressed)`);
      yield c;
    }
  };
}

function withoutOverlayXattrs(pax: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith('SCHILY.xattr.trusted.overlay.') || k.startsWith('LIBARCHIVE.xattr.')) continue;
    out[k] = v;
  }
  return out;
}

async function translate(source: AsyncIterable<Buffer>, out: TarWriter, idMap: IdMap | undefined, whiteouts: 'overlay' | 'oci'): Promise<number> {
  const symlinks = new Set<string>();
  const dirs = new Map<string, TarHeader>();
  let size = 0;
  const throughSymlink = (p: string) => ancestors(p).some((a) => symlinks.has(a));
  for await (const entry of readTar(source)) {
    const h = entry.header;
    const name = cleanEntryPath(h.name);
    if (name === '') continue; // the layer root itself: its metadata belongs to the lower layers
    if (throughSymlink(name)) throw new UnsafeLayerPathError('entry reached through a symlink', h.name);
    const base = posix.basename(name);
    const parent = posix.dirname(name) === '.' ? '' : posix.dirname(name);

    if (idMap) Object.assign(h, shiftOwner(idMap, h.uid, h.gid));
    if (whiteouts === 'oci' && (base === OPAQUE_WHITEOUT || (base.startsWith(WHITEOUT_PREFIX) && !base.startsWith(WHITEOUT_META_PREFIX)))) {
      // kept as an empty marker file for the store to apply
      await out.add(headerDefaults({ name, type: 'file', mode: 0o600, mtime: h.mtime, uid: h.uid, gid: h.gid }));
      continue;
    }
    if (base === OPAQUE_WHITEOUT) {
      const dirHeader = dirs.get(parent) ?? headerDefaults({ name: parent, type: 'dir', mode: 0o755, ...(idMap ? shiftOwner(idMap, 0, 0) : {}) });
      await out.add({ ...dirHeader, name: `${parent}/`, pax: { ...dirHeader.pax, [`SCHILY.xattr.${OPAQUE_XATTR}`]: 'y' } });
      continue;
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) continue;
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = posix.join(parent, base.slice(WHITEOUT_PREFIX.length));
      await out.add(headerDefaults({ name: target, type: 'char', mode: 0, devmajor: 0, devminor: 0, mtime: h.mtime, uid: h.uid, gid: h.gid }));
      continue;
    }

    const clean: TarHeader = { ...h, name: h.type === 'dir' ? `${name}/` : name, pax: withoutOverlayXattrs(h.pax) };
    if (h.type === 'link') {
      const target = cleanEntryPath(h.linkname, 'hard link target');
      if (target === '' || throughSymlink(target)) throw new UnsafeLayerPathError('hard link target', h.linkname);
      clean.linkname = target;
    }
    if (h.type === 'symlink') symlinks.add(name);
    else symlinks.delete(name);
    if (h.type === 'dir') dirs.set(name, clean);
    if (h.type === 'file') size += h.size;
    await out.add(clean, h.type === 'file' ? entry.body : undefined);
  }
  await out.finish();
  return size;
}
