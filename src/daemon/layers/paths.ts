/**
 * Path rules for layer tar entries (pure). Entry names are made relative to
 * the layer root; anything that would land outside it is refused.
 */
import { posix } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';

export class UnsafeLayerPathError extends InvalidParameter {
  constructor(what: string, path: string) {
    super('layer.unsafe_path', `invalid layer: ${what} "${path}" escapes the layer root`);
  }
}

/**
 * Normalises an entry name: strips `./` and leading `/`, resolves `.` and
 * `..` lexically, and refuses names that climb above the root. '' is the root.
 */
export function cleanEntryPath(name: string, what = 'entry'): string {
  const trimmed = name.replace(/\/+$/, '');
  const norm = posix.normalize('/' + trimmed);
  // a name whose `..` climbs above the root: normalize('/' + '../x') is '/x', so check the raw components
  let depth = 0;
  for (const part of trimmed.split('/')) {
    if (part === '' || part === '.') continue;
    depth += part === '..' ? -1 : 1;
    if (depth < 0) throw new UnsafeLayerPathError(what, name);
  }
  if (name.includes('\0')) throw new UnsafeLayerPathError(what, name);
  return norm === '/' ? '' : norm.slice(1);
}

/** Every proper ancestor of a clean path, outermost first: `a/b/c` → `a`, `a/b`. */
export function ancestors(clean: string): string[] {
  const parts = clean.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** Names such as `.wh..wh.plnk` are AUFS metadata: ignored on apply, never produced. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';
