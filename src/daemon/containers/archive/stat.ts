/**
 * Go's os.FileMode and time.Time forms, for the stat of a path in a container
 * as Docker's archive endpoints report it (the header itself: api/path-stat.ts). Pure.
 */
// Go's os.FileMode type bits
export const GO_MODE_DIR = 2 ** 31;
export const GO_MODE_SYMLINK = 2 ** 27;
export const GO_MODE_DEVICE = 2 ** 26;
export const GO_MODE_NAMED_PIPE = 2 ** 25;
export const GO_MODE_SOCKET = 2 ** 24;
export const GO_MODE_SETUID = 2 ** 23;
export const GO_MODE_SETGID = 2 ** 22;
export const GO_MODE_CHAR_DEVICE = 2 ** 21;
export const GO_MODE_STICKY = 2 ** 20;

const S_IFMT = 0o170000;

/** A POSIX st_mode → Go os.FileMode (as os.Lstat fills it). */
export function goFileMode(stMode: number): number {
  let m = stMode & 0o777;
  switch (stMode & S_IFMT) {
    case 0o040000: m += GO_MODE_DIR; break;
    case 0o120000: m += GO_MODE_SYMLINK; break;
    case 0o060000: m += GO_MODE_DEVICE; break;
    case 0o020000: m += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE; break;
    case 0o010000: m += GO_MODE_NAMED_PIPE; break;
    case 0o140000: m += GO_MODE_SOCKET; break;
    default: break;
  }
  if (stMode & 0o4000) m += GO_MODE_SETUID;
  if (stMode & 0o2000) m += GO_MODE_SETGID;
  if (stMode & 0o1000) m += GO_MODE_STICKY;
  return m;
}

export function isGoDir(mode: number): boolean {
  return Math.floor(mode / GO_MODE_DIR) % 2 === 1;
}

/** Go's time.Time JSON form: RFC 3339 with up to 9 fractional digits, trailing zeros trimmed. */
export function goTime(sec: bigint | number, nsec: bigint | number): string {
  const s = BigInt(sec);
  const ns = BigInt(nsec);
  const base = new Date(Number(s) * 1000).toISOString().slice(0, 19);
  const frac = ns === 0n ? '' : '.' + ns.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac}Z`;
}
