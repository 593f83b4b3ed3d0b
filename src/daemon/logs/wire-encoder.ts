/**
 * json-file lines → the bytes `docker logs` receives, a chunk of lines at a
 * time into one buffer (pure). Without a tty each entry is one stdcopy frame
 * ([stream, 0, 0, 0, uint32 BE length] + payload); `timestamps` puts the
 * entry's time before the text, `details` its attributes (moby
 * httputils.WriteLogStream).
 *
 * The lines berthd writes have one fixed layout:
 *   {"log":"12\n","stream":"stdout","time":"2026-12-06T15:52:45.123456789Z"}
 * Those are decoded in place: the JSON string is unescaped straight into the
 * output, with no string, object or buffer per line. Any other line (another
 * writer's layout, `attrs`) goes through JSON.parse; torn lines are skipped.
 */
import { parseTimeNs, rfc3339Nano, type LogEntry } from './entry.js';

export interface WireFormat {
  tty: boolean;
  timestamps: boolean;
  details: boolean;
  /**
   * Without a tty: consecutive lines of one stream share a frame (up to
   * MAX_FRAME bytes) instead of a frame each. For a client that only copies
   * the payloads to stdout and stderr (the docker CLI's stdcopy), the bytes
   * it prints are the same and it makes one write per frame, not per line.
   */
  coalesce?: boolean;
}

/** A coalesced frame's payload stays under the docker CLI's stdcopy buffer (32 KiB with the header). */
export const MAX_FRAME = 32 * 1024 - 8;

export interface LineFilter {
  stdout?: boolean;
  stderr?: boolean;
  sinceNs?: bigint;
  untilNs?: bigint;
}

const HEAD = Buffer.from('{"log":"');
const STREAM = Buffer.from('","stream":"std');
const TIME = Buffer.from('","time":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NL = 0x0a;
/** Length of berthd's own times (rfc3339Nano): fixed width, so they compare as bytes. */
const TIME_LEN = 30;

/** Where the parts of one line are; reused for every line. */
interface Scan {
  stream: 1 | 2;
  logStart: number;
  logEnd: number;
  timeStart: number;
  timeEnd: number;
}

function matches(buf: Buffer, at: number, lit: Buffer): boolean {
  if (at + lit.length > buf.length) return false;
  for (let i = 0; i < lit.length; i++) if (buf[at + i] !== lit[i]) return false;
  return true;
}

/** Reads a line of berthd's layout in buf[s, e) (no newline); false for any other line. */
export function scanLine(buf: Buffer, s: number, e: number, r: Scan): boolean {
  if (!matches(buf, s, HEAD)) return false;
  let i = s + HEAD.length;
  r.logStart = i;
  for (;;) {
    if (i >= e) return false;
    const b = buf[i]!;
    if (b === QUOTE) break;
    i += b === BACKSLASH ? 2 : 1;
  }
  r.logEnd = i;
  if (!matches(buf, i, STREAM)) return false;
  i += STREAM.length;
  // "out" or "err"
  if (buf[i] === 0x6f && buf[i + 1] === 0x75 && buf[i + 2] === 0x74) r.stream = 1;
  else if (buf[i] === 0x65 && buf[i + 1] === 0x72 && buf[i + 2] === 0x72) r.stream = 2;
  else return false;
  i += 3;
  if (!matches(buf, i, TIME)) return false;
  r.timeStart = i + TIME.length;
  r.timeEnd = e - 2;
  return r.timeEnd > r.timeStart && buf[e - 2] === QUOTE && buf[e - 1] === 0x7d && buf.indexOf(QUOTE, r.timeStart) === r.timeEnd;
}

function hex(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

function hex4(buf: Buffer, at: number): number {
  const a = hex(buf[at]!), b = hex(buf[at + 1]!), c = hex(buf[at + 2]!), d = hex(buf[at + 3]!);
  return a < 0 || b < 0 || c < 0 || d < 0 ? -1 : (a << 12) | (b << 8) | (c << 4) | d;
}

const SIMPLE: Record<number, number> = { 0x6e: 0x0a, 0x74: 0x09, 0x72: 0x0d, 0x62: 0x08, 0x66: 0x0c, 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f };

/**
 * Unescapes the JSON string body src[s, e) into dst at `o`; returns the new
 * end, or -1 for a malformed escape. dst needs e - s bytes of room: no
 * escape decodes longer than it is written.
 */
export function unescapeInto(src: Buffer, s: number, e: number, dst: Buffer, o: number): number {
  let i = s;
  while (i < e) {
    const b = src[i]!;
    if (b !== BACKSLASH) {
      dst[o++] = b;
      i++;
      continue;
    }
    const c = src[i + 1]!;
    if (c !== 0x75) {
      const v = SIMPLE[c];
      if (v === undefined) return -1;
      dst[o++] = v;
      i += 2;
      continue;
    }
    let cp = hex4(src, i + 2);
    if (cp < 0 || i + 6 > e) return -1;
    i += 6;
    if (cp >= 0xd800 && cp <= 0xdbff && src[i] === BACKSLASH && src[i + 1] === 0x75) {
      const lo = hex4(src, i + 2);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // a lone surrogate, as Buffer.from(string) writes it
    if (cp < 0x80) dst[o++] = cp;
    else if (cp < 0x800) {
      dst[o++] = 0xc0 | (cp >> 6);
      dst[o++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      dst[o++] = 0xe0 | (cp >> 12);
      dst[o++] = 0x80 | ((cp >> 6) & 0x3f);
      dst[o++] = 0x80 | (cp & 0x3f);
    } else {
      dst[o++] = 0xf0 | (cp >> 18);
      dst[o++] = 0x80 | ((cp >> 12) & 0x3f);
      dst[o++] = 0x80 | ((cp >> 6) & 0x3f);
      dst[o++] = 0x80 | (cp & 0x3f);
    }
  }
  return o;
}

/** Encodes chunks of json-file lines for one `docker logs` request. */
export class LogWireEncoder {
  private readonly scan: Scan = { stream: 1, logStart: 0, logEnd: 0, timeStart: 0, timeEnd: 0 };
  private readonly since: Buffer | undefined;
  private readonly until: Buffer | undefined;
  private out: Buffer = Buffer.alloc(0);
  private o = 0;
  /** Where the open frame's header is (-1: none), and its stream. */
  private frameAt = -1;
  private frameStream: 1 | 2 = 1;
  /** Set once an entry after `untilNs` was seen (a follower stops there). */
  pastUntil = false;

  constructor(private readonly f: WireFormat, private readonly q: LineFilter) {
    this.since = q.sinceNs !== undefined ? Buffer.from(rfc3339Nano(q.sinceNs)) : undefined;
    this.until = q.untilNs !== undefined ? Buffer.from(rfc3339Nano(q.untilNs)) : undefined;
  }

  /** Does the line buf[s, e) pass the stream and time filters? (the tail counts only those) */
  wanted(buf: Buffer, s: number, e: number): boolean {
    if (e <= s) return false;
    if (scanLine(buf, s, e, this.scan)) return this.keep(this.scan.stream, buf, this.scan.timeStart, this.scan.timeEnd);
    const entry = parseEntry(buf, s, e);
    return !!entry && this.keepEntry(entry);
  }

  /** The wire bytes of the complete lines in buf[s, e) (each ends in a newline). */
  encode(buf: Buffer, s: number, e: number): Buffer {
    // berthd's lines shrink on the wire (frame header 8 bytes < the JSON around the text, a
    // timestamp is already in the line); room for a few bigger foreign lines is added on demand
    this.out = Buffer.allocUnsafe(e - s + 64);
    this.o = 0;
    let ls = s;
    while (ls < e) {
      let le = buf.indexOf(NL, ls);
      if (le === -1 || le >= e) le = e;
      if (le > ls) this.line(buf, ls, le);
      ls = le + 1;
    }
    this.closeFrame();
    return this.out.subarray(0, this.o);
  }

  private line(buf: Buffer, s: number, e: number): void {
    const r = this.scan;
    if (!scanLine(buf, s, e, r)) {
      const entry = parseEntry(buf, s, e);
      if (entry && this.keepEntry(entry)) this.entry(entry);
      return;
    }
    if (!this.keep(r.stream, buf, r.timeStart, r.timeEnd)) return;
    this.room(8 + (r.timeEnd - r.timeStart) + 2 + (r.logEnd - r.logStart));
    const start = this.o;
    const opened = this.openFrame(r.stream, (r.timeEnd - r.timeStart) + 2 + (r.logEnd - r.logStart));
    if (this.f.timestamps) {
      this.o += buf.copy(this.out, this.o, r.timeStart, r.timeEnd);
      this.out[this.o++] = 0x20;
    }
    if (this.f.details) this.out[this.o++] = 0x20;
    const end = unescapeInto(buf, r.logStart, r.logEnd, this.out, this.o);
    if (end < 0) {
      // not JSON after all: let JSON.parse judge the whole line
      this.o = start;
      if (opened) this.frameAt = -1;
      const entry = parseEntry(buf, s, e);
      if (entry) this.entry(entry);
      return;
    }
    this.o = end;
    if (!this.f.coalesce) this.closeFrame();
  }

  /**
   * Makes room for a frame header unless the open frame (coalescing) takes
   * `len` more bytes of `stream`; true when a new frame was opened.
   */
  private openFrame(stream: 1 | 2, len: number): boolean {
    if (this.f.tty) return false;
    if (this.frameAt >= 0) {
      if (this.frameStream === stream && this.o - this.frameAt - 8 + len <= MAX_FRAME) return false;
      this.closeFrame();
    }
    this.frameAt = this.o;
    this.frameStream = stream;
    this.o += 8;
    return true;
  }

  private closeFrame(): void {
    if (this.frameAt < 0) return;
    this.header(this.frameAt, this.frameStream, this.o - this.frameAt - 8);
    this.frameAt = -1;
  }

  /** A line in any other layout, from its parsed entry. */
  private entry(e: LogEntry): void {
    let text = e.log;
    if (this.f.details) text = `${Object.entries(e.attrs ?? {}).map(([k, v]) => `${k}=${v}`).join(',')} ${text}`;
    if (this.f.timestamps) text = `${e.time} ${text}`;
    const len = Buffer.byteLength(text);
    this.room(8 + len);
    this.openFrame(e.stream === 'stderr' ? 2 : 1, len);
    this.o += this.out.write(text, this.o);
    if (!this.f.coalesce) this.closeFrame();
  }

  private header(at: number, stream: 1 | 2, len: number): void {
    const out = this.out;
    out[at] = stream;
    out[at + 1] = out[at + 2] = out[at + 3] = 0;
    out.writeUInt32BE(len, at + 4);
  }

  private room(n: number): void {
    if (this.o + n <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.o + n));
    this.out.copy(bigger, 0, 0, this.o);
    this.out = bigger;
  }

  private keep(stream: 1 | 2, buf: Buffer, ts: number, te: number): boolean {
    if (stream === 1 ? this.q.stdout === false : this.q.stderr === false) return false;
    if (!this.since && !this.until) return true;
    if (te - ts !== TIME_LEN || buf[te - 1] !== 0x5a) return this.keepTime(parseTimeNs(buf.toString('latin1', ts, te)));
    if (this.since && buf.compare(this.since, 0, TIME_LEN, ts, te) < 0) return false;
    if (this.until && buf.compare(this.until, 0, TIME_LEN, ts, te) > 0) {
      this.pastUntil = true;
      return false;
    }
    return true;
  }

  private keepEntry(e: LogEntry): boolean {
    if (e.stream === 'stdout' ? this.q.stdout === false : this.q.stderr === false) return false;
    return this.q.sinceNs === undefined && this.q.untilNs === undefined ? true : this.keepTime(parseTimeNs(e.time));
  }

  private keepTime(t: bigint): boolean {
    if (this.q.sinceNs !== undefined && t < this.q.sinceNs) return false;
    if (this.q.untilNs !== undefined && t > this.q.untilNs) {
      this.pastUntil = true;
      return false;
    }
    return true;
  }
}

function parseEntry(buf: Buffer, s: number, e: number): LogEntry | undefined {
  try {
    const v = JSON.parse(buf.toString('utf8', s, e)) as LogEntry;
    return v && typeof v.log === 'string' ? v : undefined;
  } catch {
    return undefined; // a torn last line after a crash
  }
}
