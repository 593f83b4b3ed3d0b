/**
 * Swarm object ids as swarmkit makes them (`identity.NewID()`): 25 characters
 * of base 36 (`[0-9a-z]`), ~129 bits of entropy. Node ids (the CN of a node
 * certificate), cluster ids (its O), and later service, task, network, secret
 * and config ids all have this shape.
 *
 *   newSwarmId()  // 'q7v1x3k9m2w8e5r0t6y4u1i3o'
 *
 * swarmkit reads 17 random bytes, sets the top bit of the first so the base-36
 * text always has 27 digits, and keeps digits 1..25: every id is exactly 25
 * characters, and the first one is evenly distributed.
 */
import { randomBytes } from 'node:crypto';

export const SWARM_ID_LENGTH = 25;
export const SWARM_ID_PATTERN = /^[0-9a-z]{25}$/;

/** `bytes` as a big-endian unsigned integer. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length ? BigInt(`0x${Buffer.from(bytes).toString('hex')}`) : 0n;
}

/** Go's `fmt.Sprintf("%0*s", width, n.Text(36))`: base 36, zero-padded on the left to `width` (never cut). */
export function toBase36(n: bigint, width: number): string {
  return n.toString(36).padStart(width, '0');
}

/** Parses base-36 digits (either case, as Go's big.Int.SetString); undefined if any character is not a digit. */
export function fromBase36(text: string): bigint | undefined {
  if (!/^[0-9a-zA-Z]+$/.test(text)) return undefined;
  let n = 0n;
  for (const c of text.toLowerCase()) n = n * 36n + BigInt(parseInt(c, 36));
  return n;
}

/** A new 25-character base-36 id, exactly as swarmkit's identity.NewID(). */
export function newSwarmId(random: (size: number) => Uint8Array = randomBytes): string {
  const p = Buffer.from(random(17));
  p[0] = p[0]! | 0x80;
  return bytesToBigInt(p).toString(36).slice(1, SWARM_ID_LENGTH + 1);
}
