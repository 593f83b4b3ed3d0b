/**
 * `berth cp` (docker/cli container/cp.go): copy between a container and the
 * host, either way, `-` for a tar on stdin/stdout, `-a` to keep ownership,
 * `-L` to follow a symlink source. The daemon extracts into an existing
 * directory; the client works out which directory that is and renames the
 * archive's top entry so files and directories land as `cp` would put them.
 */
import { stat as hostStat } from 'node:fs/promises';
import { posix, resolve as resolvePath } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { copyFromContainer, copyToContainer, GO_MODE_DEVICE, GO_MODE_DIR, GO_MODE_IRREGULAR, GO_MODE_SYMLINK, hasModeBit, statPath } from '../../../client/archive.js';
import { getRebaseName, preserveTrailingDotOrSeparator, splitPathDirEntry } from '../../../lib/copy-paths.js';
import { ExitError, type CliContext } from '../../context.js';
import { CopyError, copyInfoDestinationPath, copyInfoSourcePath, extractLocal, prepareArchiveCopy, rebaseArchive, tarLocal, type CopyInfo } from './cp-local.js';

interface CpOptions {
  followLink?: boolean;
  archive?: boolean;
  quiet?: boolean;
}

/** `container:path`, or a local path (absolute, `./x:y`, or without a colon). */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i === -1 || arg.slice(0, i).startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(resolvePath(p), p);
}

/** docker/cli ValidateOutputPath: the parent must exist; an existing target must be a directory or a file. */
async function validateOutputPath(path: string): Promise<void> {
  const dir = posix.dirname(posix.normalize(path));
  if (dir !== '' && dir !== '.' && !(await hostStat(dir).catch(() => undefined))) {
    throw new CopyError(`invalid output path: directory "${dir}" does not exist`);
  }
  const st = await hostStat(path).catch(() => undefined);
  if (st && !st.isDirectory() && !st.isFile()) {
    throw new CopyError(`invalid output path: "${path}" must be a directory or a regular file: ${st.isCharacterDevice() || st.isBlockDevice() ? 'got a device' : 'got an irregular file'}`);
  }
}

async function fromContainer(ctx: CliContext, container: string, srcPath: string, dstArg: string, o: CpOptions): Promise<void> {
  const c = await ctx.client();
  const dstPath = dstArg === '-' ? '-' : resolveLocalPath(dstArg);
  if (dstPath !== '-') await validateOutputPath(dstPath);
  let src = srcPath;
  let rebaseName = '';
  if (o.followLink) {
    const st = await statPath(c, container, src).catch(() => undefined);
    if (st && hasModeBit(st.mode, GO_MODE_SYMLINK)) {
      const target = st.linkTarget.startsWith('/') ? st.linkTarget : posix.join(splitPathDirEntry(src)[0], st.linkTarget);
      [src, rebaseName] = getRebaseName(src, target);
    }
  }
  const { stat, tar } = await copyFromContainer(c, container, src);
  if (dstPath === '-') {
    await pipeline(tar, ctx.out);
    return;
  }
  const srcInfo: CopyInfo = { path: src, exists: true, isDir: hasModeBit(stat.mode, GO_MODE_DIR), rebaseName };
  let archive: AsyncIterable<Buffer> = tar;
  if (rebaseName) archive = rebaseArchive(tar, splitPathDirEntry(src)[1], rebaseName);
  const dstInfo = await copyInfoDestinationPath(dstPath);
  const plan = prepareArchiveCopy(srcInfo, dstInfo);
  if (plan.rebase) archive = rebaseArchive(archive, plan.rebase[0], plan.rebase[1]);
  await extractLocal(archive, plan.dstDir);
}

async function toContainer(ctx: CliContext, srcArg: string, container: string, dstPath: string, o: CpOptions): Promise<void> {
  const c = await ctx.client();
  const srcPath = srcArg === '-' ? '-' : resolveLocalPath(srcArg);
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let dst = await statPath(c, container, dstPath).catch(() => undefined);
  if (dst) {
    if (hasModeBit(dst.mode, GO_MODE_SYMLINK)) {
      const target = dst.linkTarget.startsWith('/') ? dst.linkTarget : posix.join(splitPathDirEntry(dstPath)[0], dst.linkTarget);
      dstInfo.path = target;
      dst = await statPath(c, container, target).catch(() => undefined);
    }
    if (dst) {
      if (hasModeBit(dst.mode, GO_MODE_DEVICE) || hasModeBit(dst.mode, GO_MODE_IRREGULAR)) {
        throw new CopyError(`destination "${container}:${dstPath}" must be a directory or a regular file: ${hasModeBit(dst.mode, GO_MODE_DEVICE) ? 'got a device' : 'got an irregular file'}`);
      }
      dstInfo.exists = true;
      dstInfo.isDir = hasModeBit(dst.mode, GO_MODE_DIR);
    }
  }
  if (srcPath === '-') {
    if (!dstInfo.isDir) throw new CopyError(`destination "${container}:${dstPath}" must be a directory`);
    await copyToContainer(c, container, dstInfo.path, process.stdin, { copyUIDGID: !!o.archive });
    return;
  }
  const srcInfo = await copyInfoSourcePath(srcPath, !!o.followLink);
  const plan = prepareArchiveCopy(srcInfo, dstInfo);
  let archive = tarLocal(srcInfo.path, srcInfo.rebaseName);
  if (plan.rebase) archive = rebaseArchive(archive, plan.rebase[0], plan.rebase[1]);
  await copyToContainer(c, container, plan.dstDir, archive, { copyUIDGID: !!o.archive });
}

export function cpCommand(ctx: CliContext): Command {
  return new Command('cp')
    .description('Copy files/folders between a container and the local filesystem')
    .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
    .argument('<source>')
    .argument('<destination>')
    .option('-L, --follow-link', 'Always follow symlinks in SRC_PATH')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-q, --quiet', 'Suppress progress output during copy')
    .action(async (source: string, destination: string, o: CpOptions) => {
      if (source === '') throw new ExitError(1, 'source can not be empty');
      if (destination === '') throw new ExitError(1, 'destination can not be empty');
      const src = splitCpArg(source);
      const dst = splitCpArg(destination);
      try {
        if (src.container && dst.container) throw new CopyError('copying between containers is not supported');
        if (!src.container && !dst.container) throw new CopyError('must specify at least one container source');
        if (src.container) await fromContainer(ctx, src.container, src.path, dst.path, o);
        else await toContainer(ctx, src.path, dst.container, dst.path, o);
      } catch (err) {
        if (err instanceof CopyError) throw new ExitError(1, err.message);
        throw err;
      }
    });
}
