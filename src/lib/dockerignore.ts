/**
 * .dockerignore matching with Docker's rules (moby/patternmatcher): one
 * pattern per line, `#` comments, `!` re-includes, `*` and `?` within a path
 * element, `**` across any number of them; the last matching pattern wins,
 * and a pattern that matches a directory matches everything below it.
 */
import { posix } from 'node:path';
import { linearRegExp } from './linear-regexp.js';

interface Pattern {
  re: RegExp;
  exclusion: boolean;
}

export class DockerIgnore {
  private readonly patterns: Pattern[];

  constructor(text: string) {
    this.patterns = [];
    for (const raw of text.split(/\r?\n/)) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const exclusion = line.startsWith('!');
      if (exclusion) line = line.slice(1).trim();
      line = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
      if (line === '' || line === '.') continue;
      this.patterns.push({ re: patternRegExp(line), exclusion });
    }
  }

  get hasExclusions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** Is the context path (relative, `/`-separated) excluded? */
  excludes(path: string): boolean {
    const rel = posix.normalize(path).replace(/^\/+/, '');
    const parents = rel.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const p of this.patterns) {
      if (p.re.test(rel) || parents.some((dir) => p.re.test(dir))) excluded = !p.exclusion;
    }
    return excluded;
  }
}

/** Translates one pattern to a RegExp over the whole relative path. Never throws: a bad class is literal. */
export function patternRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?'; // **/ : zero or more directories
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escape(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      re += body.startsWith('^') || body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`;
      i = end;
    } else re += escape(c);
  }
  try {
    return linearRegExp(`${re}$`);
  } catch {
    return linearRegExp(`^${escape(pattern)}$`);
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
