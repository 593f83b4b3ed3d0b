import { InvalidParameter } from '../../errdefs/index.js';

/**
 * `since` / `until` as nanoseconds since the epoch: `<seconds>[.<nanos>]` as
 * the CLI sends them, RFC 3339, or a Go-style duration ago (`10m`, `1h30m`).
 */
export function parseTimestamp(v: string, now = Date.now()): bigint {
  const num = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (num) return BigInt(num[1]!) * 1_000_000_000n + BigInt((num[2] ?? '').padEnd(9, '0'));
  const dur = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(v);
  if (dur && v !== '') {
    const ms = Number(dur[1] ?? 0) * 3_600_000 + Number(dur[2] ?? 0) * 60_000 + Number(dur[3] ?? 0) * 1000 + Number(dur[4] ?? 0);
    return BigInt(Math.round(now - ms)) * 1_000_000n;
  }
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return BigInt(t) * 1_000_000n;
  throw new InvalidParameter('request.invalid_time', `invalid time format: ${v}`);
}
