/**
 * The one way the daemon reads a file an image chose (/etc/passwd,
 * /etc/group): resolved inside the container's root, the last component
 * never followed out of it, opened O_NOFOLLOW|O_NONBLOCK, only a regular
 * file, and at most `limit` bytes. A FIFO planted there would otherwise
 * hold one of libuv's four threads forever, and /dev/zero would be read
 * until memory runs out.
 */
import { InvalidParameter } from '../../../errdefs/index.js';
import { errCode } from '../../../lib/dir-fd.js';
import { ContainerFs } from './rooted-fs.js';

/** passwd and group files of real images are a few KiB; 4 MiB leaves room for directory-sized ones. */
export const ROOTFS_FILE_LIMIT = 4 << 20;

export class UnreadableRootfsFile extends InvalidParameter {
  constructor(path: string, why: string) {
    super('container.unreadable_file', `cannot read ${path} in the container: ${why}`);
  }
}

/** The file's text; undefined when it does not exist. */
export async function readContainerFile(cfs: ContainerFs, path: string, limit = ROOTFS_FILE_LIMIT): Promise<string | undefined> {
  let res;
  try {
    res = await cfs.resolve(path, { follow: true });
  } catch (err) {
    const code = errCode(err) ?? (err as { errno?: string }).errno;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    if (res.name === '') throw new UnreadableRootfsFile(path, 'it is a directory');
    const before = await res.dir.lstat(res.name).catch((err: unknown) => {
      if (errCode(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (!before) return undefined;
    // checked before the open: opening a device node can have effects of its own
    if (!before.isFile()) throw new UnreadableRootfsFile(path, 'not a regular file');
    const fh = await res.dir.openRead(res.name);
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.ino !== before.ino || st.dev !== before.dev) throw new UnreadableRootfsFile(path, 'not a regular file');
      if (st.size > limit) throw new UnreadableRootfsFile(path, `larger than ${limit} bytes`);
      // read to at most limit + 1 bytes: the file may grow after the stat
      const buf = Buffer.alloc(Math.min(limit + 1, st.size + 1));
      let n = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n === buf.length) break;
      }
      if (n > limit) throw new UnreadableRootfsFile(path, `larger than ${limit} bytes`);
      if (n === buf.length) throw new UnreadableRootfsFile(path, 'it changed while it was read');
      return buf.subarray(0, n).toString('utf8');
    } finally {
      await fh.close();
    }
  } finally {
    await res.release();
  }
}

/** The same for a bare root directory (a mounted rootfs, no volumes). */
export async function readRootfsFile(root: string, path: string, limit = ROOTFS_FILE_LIMIT): Promise<string | undefined> {
  const cfs = await ContainerFs.open(root, [], { readonlyRootfs: true });
  try {
    return await readContainerFile(cfs, path, limit);
  } finally {
    await cfs.close();
  }
}
