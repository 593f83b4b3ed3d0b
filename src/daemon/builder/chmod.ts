/**
 * COPY/ADD `--chmod`: an octal mode (`0755`) sets every copied entry's
 * mode; a symbolic one (`u+x,go-w`, `a=r`, `+X`), as BuildKit takes it
 * from chmod(1), changes each entry's own mode.
 */
import { InvalidParameter } from '../../errdefs/index.js';

/** Maps an entry's mode (permission and special bits) to the copied one. */
export type ModeChange = (mode: number, isDir: boolean) => number;

export function parseChmod(spec: string): ModeChange {
  if (/^[0-7]{1,4}$/.test(spec)) {
    const mode = parseInt(spec, 8);
    return () => mode;
  }
  const clauses = spec.split(',').map((c) => {
    const m = /^([ugoa]*)([+=-])([rwxXst]*|[ugo])$/.exec(c);
    if (!m) throw new InvalidParameter('build.bad_chmod', `invalid chmod parameter: ${spec}`);
    return { who: m[1] || 'a', op: m[2]!, perms: m[3]! };
  });
  return (mode, isDir) => {
    let out = mode & 0o7777;
    for (const { who, op, perms } of clauses) {
      const whoMask = (who.includes('a') ? 0o777 : 0) | (who.includes('u') ? 0o700 : 0) | (who.includes('g') ? 0o070 : 0) | (who.includes('o') ? 0o007 : 0);
      let bits = 0;
      if (/^[ugo]$/.test(perms)) {
        // copy another class's bits: g=u
        const shift = { u: 6, g: 3, o: 0 }[perms as 'u' | 'g' | 'o'];
        const p = (out >> shift) & 7;
        bits = (p << 6 | p << 3 | p) & whoMask;
      } else {
        for (const p of perms) {
          if (p === 'r') bits |= 0o444 & whoMask;
          if (p === 'w') bits |= 0o222 & whoMask;
          if (p === 'x' || (p === 'X' && (isDir || (mode & 0o111) !== 0))) bits |= 0o111 & whoMask;
          if (p === 's') bits |= (whoMask & 0o700 ? 0o4000 : 0) | (whoMask & 0o070 ? 0o2000 : 0);
          if (p === 't') bits |= 0o1000;
        }
      }
      if (op === '+') out |= bits;
      else if (op === '-') out &= ~bits;
      else out = (out & ~(whoMask | (whoMask & 0o700 ? 0o4000 : 0) | (whoMask & 0o070 ? 0o2000 : 0))) | bits;
    }
    return out;
  };
}

/** The spec as the cache key sees it: the same text copies the same modes. */
export function chmodKey(spec: string | undefined): string {
  return spec ?? '';
}
