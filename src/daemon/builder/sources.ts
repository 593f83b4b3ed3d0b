/**
 * COPY/ADD sources: patterns resolved inside a root (the build context or a
 * stage's filesystem) with Go's filepath.Match globs; nothing may name a
 * path outside the root.
 */
import { lstat, readdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { InvalidParameter, NotFound } from '../../errdefs/index.js';
import { resolveInRoot } from '../../lib/scoped-path.js';
import { linearRegExp } from '../../lib/linear-regexp.js';

export interface Source {
  /** Path relative to the root, '' for the root itself. */
  rel: string;
  /** Where it is on the host (its parent resolved inside the root, the entry itself not followed). */
  abs: string;
  isDir: boolean;
}

/** Resolves one source pattern to the paths it names, sorted. */
export async function resolveSources(root: string, pattern: string, verb: string): Promise<Source[]> {
  const clean = posix.normalize(`/${pattern}`).slice(1).replace(/\/$/, '');
  if (posix.normalize(pattern).startsWith('../') || posix.normalize(pattern) === '..') {
    throw new InvalidParameter('build.outside_context', `${verb} failed: forbidden path outside the build context: ${pattern} ()`);
  }
  const parts = clean === '' || clean === '.' ? [] : clean.split('/');
  let found: string[] = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of found) {
      if (!hasMeta(part)) {
        next.push(dir ? `${dir}/${part}` : part);
        continue;
      }
      let names: string[];
      try {
        names = await readdir(await resolveInRoot(root, dir));
      } catch {
        continue;
      }
      const re = globRegExp(part);
      for (const n of names.sort()) if (re.test(n)) next.push(dir ? `${dir}/${n}` : n);
    }
    found = next;
  }
  const out: Source[] = [];
  for (const rel of found) {
    try {
      const abs = rel === '' ? root : posix.join(await resolveInRoot(root, posix.dirname(rel)), posix.basename(rel));
      const st = await lstat(abs);
      out.push({ rel, abs, isDir: st.isDirectory() });
    } catch {
      // a literal path that does not exist: reported below
    }
  }
  if (out.length === 0) {
    throw new NotFound('build.source_not_found', `${verb} failed: file not found in build context or excluded by .dockerignore: stat ${pattern}: file does not exist`);
  }
  return out;
}

function hasMeta(s: string): boolean {
  return /[*?[\\]/.test(s);
}

/** Go's filepath.Match for one path element. */
export function globRegExp(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < p.length) re += escapeRe(p[++i]!);
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) throw new InvalidParameter('build.bad_pattern', `syntax error in pattern: ${p}`);
      let cls = p.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return linearRegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
