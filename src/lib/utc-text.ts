/**
 * UTC times as text without a Date: on this V8 (11.3, full ICU) every
 * date-to-string conversion, toISOString and toUTCString included, first asks
 * ICU for the local time zone's display name, which faults ~0.9 MiB of ICU
 * code and locale data into the process for good (issue 18: an idle daemon's
 * memory). node:http's own `Date` header is one such conversion per second.
 *   isoString(1764979200123) -> '2025-12-06T00:00:00.123Z'   (toISOString)
 *   httpDate(1764979200123)  -> 'Sat, 06 Dec 2025 00:00:00 GMT' (toUTCString, RFC 9110's IMF-fixdate)
 */

const MS_PER_DAY = 86_400_000;
// years 0-9999: outside them toISOString and toUTCString change shape, so those go to Date
const MIN_MS = -62_167_219_200_000;
const MAX_MS = 253_402_300_799_999;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface UtcParts {
  year: number;
  month: number; // 1-12
  day: number;
  weekday: number; // 0 = Sunday
  hours: number;
  minutes: number;
  seconds: number;
  millis: number;
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

function utcParts(ms: number): UtcParts {
  const days = Math.floor(ms / MS_PER_DAY);
  let inDay = ms - days * MS_PER_DAY;
  // civil-from-days (proleptic Gregorian, eras of 400 years starting 0000-03-01)
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const hours = Math.floor(inDay / 3_600_000);
  inDay -= hours * 3_600_000;
  const minutes = Math.floor(inDay / 60_000);
  inDay -= minutes * 60_000;
  const seconds = Math.floor(inDay / 1000);
  return {
    year: yoe + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: doy - Math.floor((153 * mp + 2) / 5) + 1,
    weekday: (((days + 4) % 7) + 7) % 7, // 1970-01-01 was a Thursday
    hours,
    minutes,
    seconds,
    millis: inDay - seconds * 1000,
  };
}

const inRange = (ms: number) => Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS;

/** The text of `new Date(ms).toISOString()`; throws RangeError for an invalid time, as it does. */
export function isoString(ms: number = Date.now()): string {
  if (!inRange(ms)) return new Date(ms).toISOString();
  const p = utcParts(Math.trunc(ms));
  return `${String(p.year).padStart(4, '0')}-${pad2(p.month)}-${pad2(p.day)}T${pad2(p.hours)}:${pad2(p.minutes)}:${pad2(p.seconds)}.${String(p.millis).padStart(3, '0')}Z`;
}

/** The text of `new Date(ms).toUTCString()`: an HTTP `Date` header. */
export function httpDate(ms: number = Date.now()): string {
  if (!inRange(ms)) return new Date(ms).toUTCString();
  const p = utcParts(Math.trunc(ms));
  return `${WEEKDAYS[p.weekday]}, ${pad2(p.day)} ${MONTHS[p.month - 1]} ${String(p.year).padStart(4, '0')} ${pad2(p.hours)}:${pad2(p.minutes)}:${pad2(p.seconds)} GMT`;
}

let dateSecond = Number.NaN;
let dateText = '';

/** httpDate() of now, made once a second (a server stamps every response). */
export function httpDateNow(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = httpDate(now);
  }
  return dateText;
}
