/**
 * The few node:crypto functions the daemon's boot path names, loaded on
 * their first call: node:crypto and the dozen internal modules it loads are
 * ~0.7 MiB of an idle daemon that has nothing to hash or name yet (issue 18).
 */
import type { Hash } from 'node:crypto';

const crypto = () => process.getBuiltinModule('node:crypto');

export function randomBytes(size: number): Buffer {
  return crypto().randomBytes(size);
}

export function createHash(algorithm: string): Hash {
  return crypto().createHash(algorithm);
}

/** A random integer in [0, max). */
export function randomInt(max: number): number {
  return crypto().randomInt(max);
}
