/**
 * Just enough of the DNS wire format (RFC 1035) for berth's per-network
 * server (pure): read a query's question, write an answer with A records.
 */
export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_OK = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

export interface Question {
  id: number;
  /** Recursion desired, copied into the answer. */
  rd: boolean;
  name: string;
  type: number;
  klass: number;
  /** The bytes of the question section, echoed in the answer. */
  raw: Buffer;
}

/** The first question of a standard query, or undefined for anything else. */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || ((flags >> 11) & 0xf) !== 0) return undefined; // a response, or not a QUERY
  if (msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off]!;
    if (len === 0) {
      off++;
      break;
    }
    if (len & 0xc0 || off + 1 + len > msg.length) return undefined; // no compression in questions we accept
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    rd: !!(flags & 0x0100),
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(off),
    klass: msg.readUInt16BE(off + 2),
    raw: msg.subarray(12, off + 4),
  };
}

/** An authoritative answer to `q` with A records for `ips` (empty: NODATA, or the rcode given). */
export function answer(q: Question, ips: number[], rcode = RCODE_OK, ttl = 600): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8000 | 0x0400 | (q.rd ? 0x0100 : 0) | 0x0080 | rcode, 2); // QR AA [RD] RA rcode
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ips.length, 6);
  const records = ips.map((ip) => {
    const r = Buffer.alloc(16);
    r.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    r.writeUInt16BE(TYPE_A, 2);
    r.writeUInt16BE(1, 4);
    r.writeUInt32BE(ttl, 6);
    r.writeUInt16BE(4, 10);
    r.writeUInt32BE(ip >>> 0, 12);
    return r;
  });
  return Buffer.concat([header, q.raw, ...records]);
}
