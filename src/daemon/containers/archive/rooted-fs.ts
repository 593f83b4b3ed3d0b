/**
 * A container's filesystem seen from the daemon as the container sees it:
 * the rootfs plus its bind mounts (volumes, /etc/hosts...), with every path
 * resolved the way the kernel would inside the container's root, one
 * component at a time through directory descriptors (lib/dir-fd.ts). A
 * symlink, absolute or relative, can never lead outside the root, and a
 * component swapped for a symlink while we work cannot redirect a step we
 * already took (the CVE-2018-15664 class).
 *
 *   const cfs = await ContainerFs.open(merged, mounts, { readonlyRootfs: false });
 *   const r = await cfs.resolve('/etc/passwd', { follow: false });
 *   await r.dir.lstat(r.name);   // the entry, never through a symlink
 *   await r.release(); await cfs.close();
 *
 * A resolution is a stack of open directories from the root down to the
 * parent of the final component; frames borrowed from a base stack are not
 * closed by its release.
 */
import { lchown, mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { SystemError } from '../../../errdefs/index.js';
import { DirFd, errCode } from '../../../lib/dir-fd.js';

export interface FsMount {
  /** Clean absolute path in the container. */
  destination: string;
  /** Trusted host path (a volume's data, a bind source, the container's hosts file). */
  source: string;
  readonly: boolean;
  kind: 'dir' | 'file';
}

export interface Frame {
  dir: DirFd;
  /** Container path of this directory ('/' for the root). */
  path: string;
  readonly: boolean;
  /** Closed when the stack that opened it is released. */
  owned: boolean;
}

export class Resolution {
  constructor(readonly stack: Frame[], readonly name: string) {}

  /** The directory holding the final component (or the target itself when `name` is ''). */
  get top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  get dir(): DirFd {
    return this.top.dir;
  }

  /** Container path of the resolved entry. */
  get path(): string {
    return this.name ? posix.join(this.top.path, this.name) : this.top.path;
  }

  async release(): Promise<void> {
    for (const f of this.stack) if (f.owned) await f.dir.close();
    this.stack.length = 0;
  }
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (stat vs lstat). */
  follow: boolean;
  /** Create missing intermediate directories (mode 0755, owned by `owner`). */
  create?: { uid: number; gid: number };
  /** The last component is a directory to enter too (the resolution then names no entry). */
  enterLast?: boolean;
}

const MAX_LINKS = 40;

function enoent(path: string): SystemError {
  const e = new SystemError('archive.not_found', `no such file or directory: ${path}`);
  (e as unknown as { errno: string }).errno = 'ENOENT';
  return e;
}

export class ContainerFs {
  private constructor(
    private readonly root: Frame,
    private readonly dirMounts: Map<string, FsMount>,
    readonly fileMounts: Map<string, FsMount>,
  ) {}

  static async open(rootPath: string, mounts: FsMount[], opts: { readonlyRootfs: boolean }): Promise<ContainerFs> {
    const dir = await DirFd.open(rootPath);
    const dirMounts = new Map<string, FsMount>();
    const fileMounts = new Map<string, FsMount>();
    for (const m of mounts) (m.kind === 'dir' ? dirMounts : fileMounts).set(posix.normalize(m.destination), m);
    return new ContainerFs({ dir, path: '/', readonly: opts.readonlyRootfs, owned: false }, dirMounts, fileMounts);
  }

  async close(): Promise<void> {
    await this.root.dir.close();
  }

  /** The volume or bind mounted at this container path, if any. */
  dirMount(path: string): FsMount | undefined {
    return this.dirMounts.get(path);
  }

  rootStack(): Frame[] {
    return [this.root];
  }

  /** Resolves an absolute container path from the root. */
  resolve(path: string, opts: ResolveOptions): Promise<Resolution> {
    return this.walk([this.root], posix.normalize('/' + path).split('/'), opts);
  }

  /**
   * Resolves `components` below `base` (a stack from an earlier resolution,
   * borrowed: its frames stay open after this one is released).
   */
  async walk(base: Frame[], components: string[], opts: ResolveOptions): Promise<Resolution> {
    const stack: Frame[] = base.map((f) => ({ ...f, owned: false }));
    const todo = components.filter((c) => c !== '' && c !== '.');
    let links = 0;
    const pop = async () => {
      if (stack.length <= 1) return; // `..` at the root stays at the root
      const f = stack.pop()!;
      if (f.owned) await f.dir.close();
    };
    const fail = async (err: Error) => {
      await new Resolution(stack, '').release();
      throw err;
    };
    while (todo.length) {
      const c = todo.shift()!;
      if (c === '.' || c === '') continue;
      if (c === '..') {
        await pop();
        continue;
      }
      const last = todo.length === 0 && !opts.enterLast;
      const top = stack[stack.length - 1]!;
      const childPath = posix.join(top.path, c);
      const mount = this.dirMounts.get(childPath);
      if (mount) {
        // a volume or bind: its own tree, entered at its source
        try {
          stack.push({ dir: await DirFd.open(mount.source), path: childPath, readonly: mount.readonly, owned: true });
        } catch (err) {
          return fail(new SystemError('archive.mount_unavailable', `cannot open the source of ${childPath}: ${(err as Error).message}`));
        }
        continue;
      }
      if (last && !opts.follow) return new Resolution(stack, c);
      let st;
      try {
        st = await top.dir.lstat(c);
      } catch (err) {
        if (errCode(err) !== 'ENOENT') return fail(err as Error);
        if (last) return new Resolution(stack, c);
        if (!opts.create) return fail(enoent(childPath));
        if (++links > MAX_LINKS) return fail(enoent(childPath));
        try {
          await mkdir(top.dir.at(c), 0o755);
        } catch (e) {
          if (errCode(e) !== 'EEXIST') return fail(e as Error);
        }
        todo.unshift(c); // look again: whatever is there now decides
        await fixOwner(top.dir, c, opts.create);
        continue;
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) return fail(new SystemError('archive.too_many_links', `too many levels of symbolic links: ${childPath}`));
        let target: string;
        try {
          target = await top.dir.readlink(c);
        } catch (err) {
          if (errCode(err) === 'EINVAL' || errCode(err) === 'ENOENT') {
            todo.unshift(c); // it changed under us: look again
            continue;
          }
          return fail(err as Error);
        }
        if (target.startsWith('/')) while (stack.length > 1) await pop();
        todo.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
        continue;
      }
      if (last) return new Resolution(stack, c);
      if (!st.isDirectory()) {
        const e = new SystemError('archive.not_a_directory', `not a directory: ${childPath}`);
        (e as unknown as { errno: string }).errno = 'ENOTDIR';
        return fail(e);
      }
      try {
        stack.push({ dir: await top.dir.openDir(c), path: childPath, readonly: top.readonly, owned: true });
      } catch (err) {
        const code = errCode(err);
        // swapped for a symlink or a file since the lstat: decide again from what is there now
        if ((code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') && ++links <= MAX_LINKS) {
          todo.unshift(c);
          continue;
        }
        return fail(err as Error);
      }
    }
    return new Resolution(stack, '');
  }
}

async function fixOwner(dir: DirFd, name: string, owner: { uid: number; gid: number }): Promise<void> {
  if (owner.uid === 0 && owner.gid === 0) return;
  await lchown(dir.at(name), owner.uid, owner.gid).catch(() => {});
}

/** True for the errors that mean "there is nothing at that path". */
export function isNotFound(err: unknown): boolean {
  const e = err as { errno?: string; code?: string };
  return e?.errno === 'ENOENT' || e?.code === 'ENOENT';
}

export function isNotDirectory(err: unknown): boolean {
  const e = err as { errno?: string; code?: string };
  return e?.errno === 'ENOTDIR' || e?.code === 'ENOTDIR';
}
