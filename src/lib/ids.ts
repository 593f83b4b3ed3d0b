import { randomBytes } from './lazy-crypto.js';
import { urandomBytes } from './urandom.js';

/** A new 64-hex object id, like Docker's container and exec ids. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The same kind of id for the boot path, without node:crypto (see urandom.ts). */
export async function newIdFromUrandom(): Promise<string> {
  return (await urandomBytes(32)).toString('hex');
}

/** The 12-character form Docker prints. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
