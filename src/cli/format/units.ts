// github.com/docker/go-units: the sizes and durations docker prints
// ("1.98MB", "1.5GiB", "About a minute") and parses ("512m").

import { formatFloat } from './template-strconv.js';

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, abbrs: readonly string[]): [number, string] {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return [size, abbrs[i]];
}

/** Go's %.Ng: N significant digits, no trailing zeros, exponent form when large. */
function g(x: number, precision: number): string {
  return formatFloat(x, 'g', precision);
}

/** A decimal size with the given number of significant digits: HumanSizeWithPrecision(1980000, 4) = "1.98MB". */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [s, unit] = sizeAndUnit(size, 1000, DECIMAL_ABBRS);
  return g(s, precision) + unit;
}

/** A decimal size to 4 significant digits, as `docker images` prints: "1.98MB", "796kB", "0B". */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** A binary size to 4 significant digits: "1.5GiB", "44KiB". */
export function bytesSize(size: number): string {
  const [s, unit] = sizeAndUnit(size, 1024, BINARY_ABBRS);
  return g(s, 4) + unit;
}

/**
 * An approximate duration, as docker prints ages ("Up 2 hours", "3 days
 * ago"). Takes milliseconds (JS time); go-units takes a time.Duration.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

const DECIMAL: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BINARY: Readonly<Record<string, number>> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

function parseSize(sizeStr: string, units: Readonly<Record<string, number>>): number {
  let num: string;
  let sfx: string;
  const sp = sizeStr.indexOf(' ');
  if (sp >= 0) {
    num = sizeStr.slice(0, sp);
    sfx = sizeStr.slice(sp + 1);
  } else {
    let sep = -1;
    for (let i = sizeStr.length - 1; i >= 0; i--) {
      if ('0123456789.'.includes(sizeStr[i])) {
        sep = i;
        break;
      }
    }
    if (sep === -1) throw new Error(`invalid size: '${sizeStr}'`);
    num = sizeStr.slice(0, sep + 1);
    sfx = sizeStr.slice(sep + 1);
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  let size = Number(num);
  if (size < 0) throw new Error(`invalid size: '${sizeStr}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul = units[sfx[0]];
  if (mul === undefined) throw bad();
  size *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size);
}

/** FromHumanSize: "44kB" -> 44000 (decimal units, suffix case-insensitive). Throws on bad input. */
export function fromHumanSize(size: string): number {
  return parseSize(size, DECIMAL);
}

/** RAMInBytes: "512m" -> 536870912 (binary units, as --memory takes). Throws on bad input. */
export function ramInBytes(size: string): number {
  return parseSize(size, BINARY);
}
