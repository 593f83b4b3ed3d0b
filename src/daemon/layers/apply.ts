/**
 * Unpacks one layer tar into an empty directory for use as an overlay lower
 * dir. Entries are checked and translated here, in a stream; berth writes
 * the first plain entries itself and GNU tar the rest (ownership, modes,
 * xattrs, devices, hard links): disk-sink.ts.
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
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester, type Digest } from '../../oci/digest.js';
import { headerDefaults, readTar, TarFormatError, type TarHeader } from '../../lib/tar/index.js';
import { shiftOwner, type IdMap } from '../../lib/id-map.js';
import { DiskSink } from './disk-sink.js';
import { GnuTarSink, InvalidLayerError, type EntrySink } from './gnu-tar-sink.js';
import { ancestors, cleanEntryPath, OPAQUE_WHITEOUT, UnsafeLayerPathError, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX } from './paths.js';

export { InvalidLayerError };

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface AppliedLayer {
  diffId: Digest;
  /** Bytes of regular files in the layer. */
  size: number;
  /** Bytes of the uncompressed layer tar. */
  tarSize: number;
}

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
  /**
   * 'berth' (default): berth writes a small layer's plain entries itself and
   * hands the rest to a `tar -x` (disk-sink.ts): a process start was most of
   * a small layer's time (a COPY, a RUN's capture). 'gnu-tar': tar writes
   * every entry (the conformance suite's second writer).
   */
  writer?: 'gnu-tar' | 'berth';
}

/** Extracts `tar` (uncompressed) into `dir`, which must exist and be empty. */
export async function applyLayer(tar: Readable, dir: string, opts: ApplyOptions = {}): Promise<AppliedLayer> {
  const digester = new Digester();
  const hashing = opts.maxBytes ? pipeline(tar, byteLimit(opts.maxBytes), digester) : pipeline(tar, digester);
  // awaited below, but it can fail while translate() still waits (a layer past max-layer-size):
  // without a handler by then, that is an unhandled rejection, which ends the daemon
  hashing.catch(() => {});
  const sink: EntrySink = opts.writer === 'gnu-tar' ? new GnuTarSink(dir) : new DiskSink(dir);
  try {
    const size = await translate(digester, sink, opts.idMap, opts.whiteouts ?? 'overlay');
    await hashing;
    await sink.finish();
    return { diffId: digester.digest(), size, tarSize: digester.size };
  } catch (err) {
    tar.destroy();
    digester.destroy();
    const reason = await sink.abort(err as Error);
    await Promise.allSettled([hashing]);
    if (err instanceof TarFormatError) throw new InvalidLayerError('layer.invalid_tar', `invalid layer tar: ${err.message}`);
    throw reason;
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

async function translate(source: AsyncIterable<Buffer>, out: EntrySink, idMap: IdMap | undefined, whiteouts: 'overlay' | 'oci'): Promise<number> {
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
  return size;
}
