/**
 * Detach key sequences (`ctrl-p,ctrl-q`): parsing, and a matcher that finds
 * the sequence in a byte stream. Pure.
 */
import { InvalidParameter } from '../errdefs/index.js';

export const DEFAULT_DETACH_KEYS = [0x10, 0x11]; // ctrl-p ctrl-q

/** docker's term.ToBytes: `ctrl-a`..`ctrl-z`, `ctrl-@`, `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_`, or one character. */
export function parseDetachKeys(spec: string | undefined): number[] {
  if (!spec) return DEFAULT_DETACH_KEYS;
  return spec.split(',').map((k) => {
    const key = k.trim();
    if (key.length === 1) return key.charCodeAt(0);
    const m = /^ctrl-(.)$/i.exec(key);
    if (!m) throw new InvalidParameter('attach.invalid_detach_keys', `Invalid detach keys (${spec}) provided`);
    const ch = m[1]!;
    if (/[a-z]/i.test(ch)) return ch.toLowerCase().charCodeAt(0) - 96;
    const special: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };
    if (special[ch] === undefined) throw new InvalidParameter('attach.invalid_detach_keys', `Invalid detach keys (${spec}) provided`);
    return special[ch];
  });
}

/** Feeds bytes; `push` returns the bytes to pass on and whether the sequence completed. */
export class DetachMatcher {
  private held: number[] = [];
  constructor(private readonly keys: number[]) {}

  push(chunk: Buffer): { pass: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) return { pass: Buffer.from(out), detached: true };
        continue;
      }
      // not the sequence after all: release what was held back
      out.push(...this.held);
      this.held = [];
      if (b === this.keys[0]) this.held.push(b);
      else out.push(b);
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
