/**
 * Path rules of `docker cp` (go-archive copy.go), shared by the daemon's
 * archive endpoints and the `cp` command. POSIX paths; pure.
 *
 *   preserveTrailingDotOrSeparator('/tmp/d', 'tmp/d/.') === '/tmp/d/.'
 *   goBase('/tmp/d/') === 'd'; goBase('/') === '/'
 */
import { posix } from 'node:path';

/** Go's filepath.Base: trailing slashes dropped, '' → '.', all slashes → '/'. */
export function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go's filepath.Clean (posix.normalize without the trailing slash, '' → '.'). */
export function goClean(path: string): string {
  if (path === '') return '.';
  const n = posix.normalize(path);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

function specifiesCurrentDir(path: string): boolean {
  return goBase(path) === '.';
}

function hasTrailingSeparator(path: string): boolean {
  return path.endsWith('/');
}

/** A path ending in `/` or `/.` says "this must be a directory". */
export function assertsDirectory(path: string): boolean {
  return hasTrailingSeparator(path) || specifiesCurrentDir(path);
}

/** Puts back the `/.` or `/` that cleaning took from `original`. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(out)) out += '/';
    out += '.';
  }
  if (!hasTrailingSeparator(out) && hasTrailingSeparator(original)) out += '/';
  return out;
}

/** go-archive SplitPathDirEntry: `/a/b/` → ['/a', 'b']; `/a/b/.` → ['/a/b', '.']. */
export function splitPathDirEntry(path: string): [dir: string, base: string] {
  let cleaned = goClean(path);
  if (specifiesCurrentDir(path)) cleaned += '/.';
  return [posix.dirname(cleaned), goBase(cleaned)];
}

/** go-archive GetRebaseName: the resolved path with the original's trailing form, and the name to rebase to. */
export function getRebaseName(path: string, resolved: string): [resolved: string, rebaseName: string] {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(r)) r += '/';
  return [r, goBase(path) !== goBase(r) ? goBase(path) : ''];
}

/** Renames `oldBase` (and what is below it) to `newBase` in a tar entry name (go-archive newNameRebaser). */
export function rebaseEntryName(name: string, oldBase: string, newBase: string): string {
  const o = oldBase.replace(/\/+$/, '');
  const n = newBase.replace(/\/+$/, '');
  if (o === '') {
    const rest = name.replace(/^\/+/, '');
    return n === '' ? rest : `${n}/${rest}`;
  }
  if (!name.startsWith(o)) return name;
  const suffix = name.slice(o.length);
  if (suffix !== '' && !suffix.startsWith('/')) return name;
  return n + suffix;
}
