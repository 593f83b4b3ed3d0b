/**
 * A container's overlay upper dir, read back: the list of changes (`docker
 * diff`) and the layer tar (`docker commit`) in OCI form.
 *
 * overlayfs marks a deletion as a character device 0:0 and a directory
 * that hides its lower contents with the xattr `trusted.overlay.opaque=y`.
 * Node cannot read xattrs: the spawner reads the two a layer needs
 * (lgetxattr, its op 5) for `diff` and for a small upper dir's `commit`,
 * which berth then walks and tars itself; a larger upper dir, or a daemon
 * without the spawner, is archived by GNU tar (`--no-recursion` headers for
 * `diff`). Either way the entries are translated:
 *   char 0:0 name          → name's parent/.wh.name (empty file, 0600)
 *   dir with opaque=y      → the dir entry, then dir/.wh..wh..opq (the dir's mode)
 *   xattrs: only security.capability is kept, as in Docker's layers.
 * As in Docker's tars, modes carry Go's file-type bits and owners the
 * host's names for their ids.
 */
import { spawn } from 'node:child_process';
import type { Dirent } from 'node:fs';
import { createReadStream, type BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { FilesystemChange } from '../../api/types/index.js';
import { SystemError } from '../../errdefs/index.js';
import { ExecError, spawnStdout, type OutputFifo, type StdoutProgram } from '../../lib/exec.js';
import { activeSpawner, describeErrno, type Spawner } from '../../lib/spawner/client.js';
import { decodeXattrs, Op, type PathXattrs } from '../../lib/spawner/protocol.js';
import { headerDefaults, readTar, TarWriter, type TarEntryType, type TarHeader } from '../../lib/tar/index.js';
import { hostAccounts, type HostAccounts } from '../../lib/host-accounts.js';
import { OPAQUE_XATTR } from './apply.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './paths.js';

/** Kind 0 = modified, 1 = added, 2 = deleted (the Engine API's numbers). */
export type Change = FilesystemChange;

const OVERLAY_XATTR_PREFIX = 'SCHILY.xattr.trusted.overlay.';

interface UpperEntry {
  path: string;
  whiteout: boolean;
  dir: boolean;
}

async function walk(root: string, rel = ''): Promise<UpperEntry[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: UpperEntry[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    let whiteout = false;
    if (e.isCharacterDevice()) whiteout = (await lstat(join(root, path))).rdev === 0;
    out.push({ path, whiteout, dir: e.isDirectory() });
    if (e.isDirectory()) out.push(...(await walk(root, path)));
  }
  return out;
}

/** Directories of `root` carrying `trusted.overlay.opaque=y`. */
export async function opaqueDirs(root: string, dirs: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  if (dirs.length === 0) return found;
  const spawner = activeSpawner();
  if (spawner) {
    // one lgetxattr a directory in a worker of the spawner: no tar, and no fork of the daemon
    const xattrs = await readXattrs(spawner, dirs.map((d) => join(root, d)));
    dirs.forEach((d, i) => { if (xattrs[i]!.opaque) found.add(d); });
    return found;
  }
  const tar = spawnTar(root, ['--no-recursion', '--null', '-T', '-', `--xattrs-include=${OPAQUE_XATTR}`]);
  tar.stdin.end(dirs.map((d) => `${d}\0`).join(''));
  const reading = (async () => {
    for await (const e of readTar(tar.stdout)) {
      if (e.header.pax[`SCHILY.xattr.${OPAQUE_XATTR}`] === 'y') found.add(e.header.name.replace(/^\.\//, '').replace(/\/$/, ''));
    }
  })();
  await Promise.all([reading, tar.done]);
  return found;
}

/** Is `path` present in the stack of lower dirs (top first), honouring whiteouts? */
async function inLower(lowers: string[], path: string): Promise<boolean> {
  for (const lower of lowers) {
    try {
      const st = await lstat(join(lower, path));
      return !(st.isCharacterDevice() && st.rdev === 0);
    } catch {
      // not in this layer: look further down
    }
  }
  return false;
}

/** Names in the first lower layer that has `path` as a directory. */
async function lowerNames(lowers: string[], path: string): Promise<string[]> {
  for (const lower of lowers) {
    try {
      return await readdir(join(lower, path));
    } catch {
      // not here
    }
  }
  return [];
}

/** `docker diff`: what the upper dir changed relative to the lower layers, sorted by path. */
export async function upperChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const entries = await walk(upper);
  const opaque = await opaqueDirs(upper, entries.filter((e) => e.dir).map((e) => e.path));
  const inUpper = new Set(entries.map((e) => e.path));
  const changes: Change[] = [];
  for (const e of entries) {
    const path = `/${e.path}`;
    if (e.whiteout) {
      changes.push({ Path: path, Kind: 2 });
      continue;
    }
    const existed = await inLower(lowers, e.path);
    changes.push({ Path: path, Kind: existed ? 0 : 1 });
    // a dir deleted and made again hides what was below: those entries are gone for the user
    if (existed && opaque.has(e.path)) {
      for (const name of await lowerNames(lowers, e.path)) {
        if (!inUpper.has(`${e.path}/${name}`)) changes.push({ Path: `${path}/${name}`, Kind: 2 });
      }
    }
  }
  return changes.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/**
 * The upper dir as an OCI layer tar (uncompressed), streamed. Entries are
 * sorted by name, so the same upper dir gives the same bytes. A small upper
 * dir (a RUN step's few files) is read by berth itself, its two kept
 * xattrs through the spawner: a tar process costs ~10 ms to start here.
 * `reader: 'gnu-tar'` always has tar read it (the conformance test compares both).
 */
export function upperLayerTar(upper: string, fifo?: OutputFifo, opts: { reader?: 'gnu-tar' } = {}): Readable {
  const out = new TarWriter({ typeBits: true });
  void (async () => {
    // before tar starts: node discards a child's output no one reads by the time it exits
    const accounts = await hostAccounts();
    const spawner = opts.reader === 'gnu-tar' ? undefined : activeSpawner();
    let tar: StdoutProgram | undefined;
    try {
      const small = spawner ? await smallUpper(upper, SELF_READ_MAX) : undefined;
      if (small) {
        await translate(selfRead(upper, small, spawner!), out, accounts);
        return;
      }
      // Docker keeps one xattr in layers (security.capability); the opaque marker is read to be translated
      const args = [...TAR_CREATE, '-C', upper, '--sort=name', '--xattrs', '--xattrs-include=security.capability', `--xattrs-include=${OPAQUE_XATTR}`, '.'];
      // through the spawner: a RUN step's capture forks no daemon (its FIFO sits beside the upper dir, never in it)
      tar = await spawnStdout('tar', args, fifo ?? { path: join(dirname(upper), `upper-tar-${process.pid}-${++fifoSeq}`) });
      const done = tar.done.catch((err: unknown) => { throw tarFailed(err); });
      await Promise.all([translate(readTar(tar.stdout), out, accounts), done]);
    } catch (err) {
      tar?.stop();
      out.abort(err as Error);
    }
  })();
  return out.stream;
}

/** Upper dirs of up to this many entries are read by berth itself (above: GNU tar, faster per file). */
const SELF_READ_MAX = 64;

interface UpperFile {
  rel: string;
  st: BigIntStats;
}

/**
 * The upper dir's entries in GNU tar's `--sort=name` order (a directory, then
 * its entries by the bytes of their names), or undefined past `max` entries
 * or for a name that is not valid UTF-8 (Node would not give its bytes back).
 */
async function smallUpper(upper: string, max: number): Promise<UpperFile[] | undefined> {
  const out: UpperFile[] = [];
  const visit = async (rel: string): Promise<boolean> => {
    const names = await readdir(rel ? join(upper, rel) : upper);
    if (out.length + names.length > max || names.some((n) => n.includes('\uFFFD'))) return false;
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const stats = await Promise.all(names.map((n) => lstat(join(upper, rel, n), { bigint: true })));
    for (let i = 0; i < names.length; i++) {
      const path = rel ? `${rel}/${names[i]!}` : names[i]!;
      out.push({ rel: path, st: stats[i]! });
      if (stats[i]!.isDirectory() && !(await visit(path))) return false;
    }
    return true;
  };
  return (await visit('')) ? out : undefined;
}

/** The entries GNU tar would write for these files (`TAR_CREATE` and the two xattrs), as readTar gives them. */
async function* selfRead(upper: string, files: UpperFile[], spawner: Spawner): AsyncGenerator<{ header: TarHeader; body: AsyncIterable<Buffer> }> {
  const asked = files.filter((f) => f.st.isDirectory() || f.st.isFile());
  const xattrs = new Map((await readXattrs(spawner, asked.map((f) => join(upper, f.rel)))).map((x, i) => [asked[i]!, x]));
  const firstName = new Map<string, string>();
  for (const f of files) {
    const { st } = f;
    const x = xattrs.get(f);
    const pax: Record<string, string> = {};
    if (x?.capability) pax['SCHILY.xattr.security.capability'] = x.capability.toString('latin1');
    if (x?.opaque) pax[`SCHILY.xattr.${OPAQUE_XATTR}`] = 'y';
    const sec = st.mtimeNs / 1_000_000_000n;
    const ns = st.mtimeNs % 1_000_000_000n;
    const entry = (type: TarEntryType, more: Partial<TarHeader> = {}) => ({
      header: headerDefaults({
        name: `./${f.rel}${type === 'dir' ? '/' : ''}`, type, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid),
        mtime: ns === 0n ? Number(sec) : Number(`${sec}.${ns.toString().padStart(9, '0')}`), pax, ...more,
      }),
      body: (async function* () {})() as AsyncIterable<Buffer>,
    });
    const path = join(upper, f.rel);
    // GNU tar links a second name of a file or a symlink to the first (not of a device: whiteouts share one inode)
    if ((st.isFile() || st.isSymbolicLink()) && st.nlink > 1n) {
      const inode = `${st.dev}:${st.ino}`;
      const first = firstName.get(inode);
      if (first !== undefined) {
        yield entry('link', { linkname: `./${first}`, pax: {} }); // the first name carries the xattrs
        continue;
      }
      firstName.set(inode, f.rel);
    }
    if (st.isFile()) {
      yield { ...entry('file', { size: Number(st.size) }), body: createReadStream(path) };
    } else if (st.isDirectory()) {
      yield entry('dir');
    } else if (st.isSymbolicLink()) {
      yield entry('symlink', { linkname: await readlink(path) });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = st.rdev;
      const devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      const devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      yield entry(st.isCharacterDevice() ? 'char' : 'block', { devmajor, devminor });
    } else if (st.isFIFO()) {
      yield entry('fifo');
    }
    // a socket: GNU tar leaves it out ("socket ignored"), so do we
  }
}

/** The opaque marker and capability of each path (the spawner's lgetxattr: Node has no getxattr). */
async function readXattrs(spawner: Spawner, paths: string[]): Promise<PathXattrs[]> {
  const r = await spawner.call({ op: Op.Xattrs, paths }, 'read xattrs');
  if (r.errno) throw readFailed(`${describeErrno(r.errno).message}: ${r.stderr.toString()}`);
  return decodeXattrs(r.stdout, paths.length);
}

async function translate(entries: AsyncIterable<{ header: TarHeader; body: AsyncIterable<Buffer> }>, out: TarWriter, accounts: HostAccounts): Promise<void> {
  for await (const entry of entries) {
    const h = entry.header;
    const name = posix.normalize(h.name).replace(/^\.\/?/, '').replace(/\/$/, '');
    if (name === '' || name === '.') continue;
    const pax = Object.fromEntries(Object.entries(h.pax).filter(([k]) => !k.startsWith(OVERLAY_XATTR_PREFIX) && k !== 'atime' && k !== 'ctime'));
    if (h.type === 'char' && h.devmajor === 0 && h.devminor === 0) {
      const dir = posix.dirname(name);
      const wh = `${dir === '.' ? '' : `${dir}/`}${WHITEOUT_PREFIX}${posix.basename(name)}`;
      await out.add(headerDefaults({ name: wh, type: 'file', mode: 0o600, mtime: Math.floor(h.mtime) }), undefined, NO_TYPE_BITS);
      continue;
    }
    const clean: TarHeader = { ...h, name: h.type === 'dir' ? `${name}/` : name, pax, uname: accounts.user(h.uid), gname: accounts.group(h.gid) };
    if (h.type === 'link') clean.linkname = posix.normalize(h.linkname).replace(/^\.\//, '');
    await out.add(clean, h.type === 'file' ? entry.body : undefined);
    if (h.type === 'dir' && h.pax[`SCHILY.xattr.${OPAQUE_XATTR}`] === 'y') {
      // moby: the opaque marker takes the directory's permissions and owner
      await out.add(headerDefaults({ name: `${name}/${OPAQUE_WHITEOUT}`, type: 'file', mode: h.mode & 0o777, uid: h.uid, gid: h.gid, uname: clean.uname, gname: clean.gname, mtime: Math.floor(h.mtime) }), undefined, NO_TYPE_BITS);
    }
  }
  await out.finish();
}

/** A read of the container's filesystem that failed, as the client is told. */
function readFailed(detail: string): SystemError {
  return new SystemError('layer.read_upper', `reading the container's filesystem failed: ${detail}`);
}

/** A tar run through the spawner that failed: its own words; anything else as it is. */
function tarFailed(err: unknown): unknown {
  return err instanceof ExecError ? readFailed(err.stderr.trim() || err.message) : err;
}

/** moby writes whiteout entries with permission bits only. */
const NO_TYPE_BITS = { typeBits: false };

/** GNU tar creating an archive of `cwd` on stdout; `done` rejects with its message on failure. */
const TAR_CREATE = ['-c', '-f', '-', '--numeric-owner', '--format=posix', '--pax-option=delete=atime,delete=ctime'];
let fifoSeq = 0;

function spawnTar(cwd: string, args: string[]) {
  const child = spawn('tar', [...TAR_CREATE, '-C', cwd, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(readFailed(stderr.trim() || `tar exited with ${code}`));
    });
  });
  child.stdin.on('error', () => {});
  return { stdin: child.stdin, stdout: child.stdout, done, kill: () => child.kill('SIGKILL') };
}

/** Streams a flattened directory (a mounted rootfs) as a tar, names without `./`, as `docker export` does. */
export async function directoryTar(dir: string): Promise<Readable> {
  const top = (await readdir(dir)).sort();
  if (top.length === 0) {
    const empty = new TarWriter();
    void empty.finish();
    return empty.stream;
  }
  const args = [...TAR_CREATE, '-C', dir, '--sort=name', '--xattrs', '--xattrs-include=*', '--xattrs-exclude=trusted.overlay.*', '--', ...top];
  // through the spawner, as a capture's tar: a fork of the daemon holds its event loop (its FIFO sits beside the directory)
  const tar = await spawnStdout('tar', args, { path: join(dirname(dir), `export-tar-${process.pid}-${++fifoSeq}`) });
  const out = tar.stdout;
  tar.done.catch((err: unknown) => out.destroy(tarFailed(err) as Error));
  return out;
}
