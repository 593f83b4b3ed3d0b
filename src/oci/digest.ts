import type { Hash } from 'node:crypto';
import { createHash } from '../lib/lazy-crypto.js';
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidParameter } from '../errdefs/index.js';

/** `sha256:<64 lowercase hex>`; other algorithms are parsed but not computed. */
export type Digest = `${string}:${string}`;

const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;

export class InvalidDigestError extends InvalidParameter {
  constructor(message: string) {
    super('digest.invalid', message);
  }
}

/** Validates a digest string: grammar per the OCI spec, exact hex length for sha256/sha512. */
export function parseDigest(s: string): { algorithm: string; encoded: string } {
  const m = DIGEST.exec(s);
  if (!m) throw new InvalidDigestError(`invalid digest "${s}"`);
  const [, algorithm, encoded] = m as unknown as [string, string, string];
  if (algorithm === 'sha256' && !SHA256_HEX.test(encoded)) throw new InvalidDigestError(`invalid sha256 digest "${s}"`);
  if (algorithm === 'sha512' && !/^[a-f0-9]{128}$/.test(encoded)) throw new InvalidDigestError(`invalid sha512 digest "${s}"`);
  return { algorithm, encoded };
}

export function isDigest(s: string): s is Digest {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** True for `sha256:<64 hex>`, the only algorithm berth stores by. */
export function isSha256Digest(s: string): s is Digest {
  return s.startsWith('sha256:') && SHA256_HEX.test(s.slice(7));
}

export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function hexOf(d: Digest | string): string {
  return d.slice(d.indexOf(':') + 1);
}

/** The hex of a sha256 digest, for building a store path: anything else is refused, never joined into a path. */
export function sha256Hex(d: Digest | string): string {
  if (!isSha256Digest(d)) throw new InvalidDigestError(`invalid digest ${JSON.stringify(d).slice(0, 100)}`);
  return d.slice(7);
}

/**
 * A pass-through stream that hashes and counts what flows through it:
 * `pipeline(src, digester, dst)`, then read `digester.digest()` and `.size`.
 */
export class Digester extends Transform {
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
  private result: Digest | undefined;
  digest(): Digest {
    this.result ??= `sha256:${this.hash.digest('hex')}`;
    return this.result;
  }
}
