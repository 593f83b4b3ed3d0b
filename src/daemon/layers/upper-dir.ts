/**
 * A container's overlay upper dir, read back: the list of changes (`docker
 * diff`) and the layer tar (`docker commit`) in OCI form.
 *
 * overlayfs marks a deletion as a character device 0:0 and a directory
 * that hides its lower contents with the xattr `trusted.overlay.opaque=y`.
 * Node cannot read xattrs, so GNU tar reads them (it is already required
 * for unpacking): for `diff` it archives the directories alone
 * (`--no-recursion`, headers only, no file data read); for `commit` it
 * archives the whole upper dir and we translate its stream:
 *   char 0:0 name          → name's parent/.wh.name (empty file, 0600)
 *   dir with opaque=y      → the dir entry, then dir/.wh..wh..opq (the dir's mode)
 *   xattrs: only security.capability is kept, as in Docker's layers.
 * As in Docker's tars, modes carry Go's file-type bits and owners the
 * host's names for their ids.
 * Getfattr (Debian `attr`) would do for the first job, but one tool for
 * both keeps the dependency list and the two readings consistent.
 */
import { spawn } from 'node:child_process';
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { FilesystemChange } from '../../api/types/index.js';
import { SystemError } from '../../errdefs/index.js';
import { ExecError, spawnStdout, type OutputFifo, type StdoutProgram } from '../../lib/exec.js';
import { headerDefaults, readTar, TarWriter, type TarHeader } from '../../lib/tar/index.js';
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
 * sorted by name, so the same upper dir gives the same bytes.
 */
export function upperLayerTar(upper: string, fifo?: OutputFifo): Readable {
  const out = new TarWriter({ typeBits: true });
  void (async () => {
    // before tar starts: node discards a child's output no one reads by the time it exits
    const accounts = await hostAccounts();
    // Docker keeps one xattr in layers (security.capability); the opaque marker is read to be translated
    const args = [...TAR_CREATE, '-C', upper, '--sort=name', '--xattrs', '--xattrs-include=security.capability', `--xattrs-include=${OPAQUE_XATTR}`, '.'];
    let tar: StdoutProgram | undefined;
    try {
      // through the spawner: a RUN step's capture forks no daemon (its FIFO sits beside the upper dir, never in it)
      tar = await spawnStdout('tar', args, fifo ?? { path: join(dirname(upper), `upper-tar-${process.pid}-${++fifoSeq}`) });
      const done = tar.done.catch((err: unknown) => {
        throw err instanceof ExecError ? new SystemError('layer.read_upper', `reading the container's filesystem failed: ${err.stderr.trim() || err.message}`) : err;
      });
      await Promise.all([translate(tar.stdout, out, accounts), done]);
    } catch (err) {
      tar?.stop();
      out.abort(err as Error);
    }
  })();
  return out.stream;
}

async function translate(source: Readable, out: TarWriter, accounts: HostAccounts): Promise<void> {
  for await (const entry of readTar(source)) {
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
      else reject(new SystemError('layer.read_upper', `reading the container's filesystem failed: ${stderr.trim() || `tar exited with ${code}`}`));
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
  const tar = spawnTar(dir, ['--sort=name', '--xattrs', '--xattrs-include=*', '--xattrs-exclude=trusted.overlay.*', '--', ...top]);
  tar.stdin.end();
  const out = tar.stdout;
  tar.done.catch((err: Error) => out.destroy(err));
  return out;
}
