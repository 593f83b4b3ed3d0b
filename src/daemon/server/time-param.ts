import { InvalidParameter } from '../../errdefs/index.js';
import { timestampMs } from '../../lib/go-time.js';

/**
 * `since` / `until` as nanoseconds since the epoch: `<seconds>[.<nanos>]` as
 * the CLI sends them, RFC 3339, or a Go-style duration ago (`10m`, `1h30m`).
 */
export function parseTimestamp(v: string, now = Date.now()): bigint {
  const num = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (num) return BigInt(num[1]!) * 1_000_000_000n + BigInt((num[2] ?? '').padEnd(9, '0'));
  const t = timestampMs(v, now);
  if (t !== undefined) return BigInt(Math.round(t)) * 1_000_000n;
  throw new InvalidParameter('request.invalid_time', `invalid time format: ${v}`);
}
