/**
 * Go's time grammar, written once: time.ParseDuration and Duration.String,
 * and moby's timetypes.GetTimestamp (`since`/`until`: unix seconds, a
 * duration ago, or an RFC 3339 time) that every filter and flag shares.
 */

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const TERM = /([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)/y;

/** time.ParseDuration: `1h30m`, `1.5s`, `-2m`, `0`; nanoseconds, or undefined when `s` is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < rest.length) {
    const m = TERM.exec(rest);
    if (!m) return undefined;
    const [, whole = '', frac = '', unit] = m;
    if (whole === '' && frac === '') return undefined; // `.s`: Go wants a digit
    total += Number(`${whole || '0'}.${frac || '0'}`) * UNIT_NS[unit!]!;
  }
  return sign * Math.round(total);
}

/** Duration.String(): `0s`, `500ms`, `1.5µs`, `1m30s`, `1h0m0s`. */
export function formatGoDuration(nanoseconds: number): string {
  let ns = Math.round(nanoseconds);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  const frac = (n: number, unit: number) => {
    const whole = Math.floor(n / unit);
    const rest = String(n % unit).padStart(String(unit).length - 1, '0').replace(/0+$/, '');
    return rest ? `${whole}.${rest}` : String(whole);
  };
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${frac(ns, 1e3)}µs`;
  if (ns < 1e9) return `${sign}${frac(ns, 1e6)}ms`;
  const h = Math.floor(ns / 3600e9);
  ns -= h * 3600e9;
  const m = Math.floor(ns / 60e9);
  ns -= m * 60e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${frac(ns, 1e9)}s`;
}

/**
 * moby's timetypes.GetTimestamp as milliseconds since the epoch: unix
 * seconds (with a fraction), a Go duration before `now`, or a date/time
 * Date.parse reads (RFC 3339 and its shorter forms); undefined for anything else.
 */
export function timestampMs(v: string, now = Date.now()): number | undefined {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const ago = parseGoDuration(v);
  if (ago !== undefined) return now - ago / 1e6;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
