/**
 * One-time tokens for the streaming server's URLs, as the kubelet's
 * streaming cache hands them out: 8 random bytes (base64url), consumed by
 * the first request that presents them, expired after a minute, at most
 * 1000 waiting.
 */
import { randomBytes } from 'node:crypto';
import { TooManyRequests } from '../../../errdefs/index.js';

export class TokenCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  constructor(private readonly ttlMs = 60_000, private readonly max = 1000, private readonly now = () => Date.now()) {}

  put(value: T): string {
    this.prune();
    if (this.entries.size >= this.max) throw new TooManyRequests('cri.stream_tokens', 'maximum number of in-flight requests exceeded');
    let token: string;
    do token = randomBytes(8).toString('base64url');
    while (this.entries.has(token));
    this.entries.set(token, { value, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The request the token stands for, once: a second use or an expired token finds nothing. */
  consume(token: string): T | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    this.entries.delete(token);
    return e.expires > this.now() ? e.value : undefined;
  }

  private prune(): void {
    const now = this.now();
    for (const [t, e] of this.entries) if (e.expires <= now) this.entries.delete(t);
  }
}
