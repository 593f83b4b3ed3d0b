/**
 * SPDY/3 header compression: one zlib stream per direction of a session,
 * primed with the spec's dictionary, each header block ending on a sync
 * flush so the reader can decode it before the next arrives.
 *
 * Reading: Node's zlib is asynchronous, but the decompressed stream is just
 * the header blocks one after another, and each block says its own length;
 * so the i-th header frame's block is the i-th block of that stream, and no
 * chunk boundary from zlib has to be trusted.
 *
 * Writing: blocks go out as stored (uncompressed) deflate blocks after a
 * zlib header naming the dictionary, each ended by a sync flush. Any SPDY/3 reader inflates them; it
 * keeps writing synchronous (frames stay in order without a queue), and the
 * blocks berth sends are a few bytes (a SYN_REPLY has no headers at all).
 */
import { createInflate, constants, type Inflate } from 'node:zlib';
import { decodeHeaderBlock, encodeHeaderBlock, type Headers } from './frames.js';

const WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date',
  'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate',
  'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version',
  'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
const TAIL = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505'
  + '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized'
  + '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable'
  + 'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT'
  + 'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,'
  + 'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

/** The SPDY/3 header dictionary (spec section 2.6.10.1): length-prefixed words, then a tail. */
export const SPDY_DICTIONARY: Buffer = Buffer.concat([
  ...WORDS.map((w) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    return Buffer.concat([len, Buffer.from(w, 'latin1')]);
  }),
  Buffer.from(TAIL, 'latin1'),
]);

/** zlib's checksum, which names the dictionary in the stream's header. */
export function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** An empty, non-final stored block: what zlib's Z_SYNC_FLUSH ends a block with. */
const SYNC_FLUSH = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/** Compresses header blocks for one direction of a session. */
export class HeaderCompressor {
  private started = false;

  compress(headers: Headers): Buffer {
    const raw = encodeHeaderBlock(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32K window); FLG: FDICT set and FCHECK making CMF*256+FLG a multiple of 31
      const cmf = 0x78;
      let flg = 0x20;
      flg |= 31 - ((cmf * 256 + flg) % 31);
      const dictId = Buffer.alloc(4);
      dictId.writeUInt32BE(adler32(SPDY_DICTIONARY));
      parts.push(Buffer.from([cmf, flg]), dictId);
    }
    // stored blocks of at most 65535 bytes, none final: the stream goes on
    for (let o = 0; o < raw.length; o += 0xffff) {
      const piece = raw.subarray(o, o + 0xffff);
      const head = Buffer.alloc(5); // BFINAL 0, BTYPE 00 (stored), LEN, NLEN
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
    }
    // then an empty stored block: zlib's sync flush marker. Go's flate reader
    // (spdystream's, so the kubelet's and kubectl's) hands out a stored
    // block's bytes only when the next block header is read, so without it
    // the reader runs past the frame, fails and stays failed: the second
    // header block of a session never decodes.
    parts.push(SYNC_FLUSH);
    return Buffer.concat(parts);
  }
}

/** Decompresses the peer's header blocks, in the order their frames arrived. */
export class HeaderDecompressor {
  private readonly inflate: Inflate;
  private out: Buffer = Buffer.alloc(0);
  private failed: Error | undefined;
  private waiting: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.inflate = createInflate({ dictionary: SPDY_DICTIONARY });
    this.inflate.on('data', (c: Buffer) => {
      this.out = this.out.length ? Buffer.concat([this.out, c]) : c;
      this.waiting?.();
    });
    this.inflate.on('error', (err) => {
      this.failed = err;
      this.waiting?.();
    });
  }

  /** The headers of the next block; call in frame order (calls queue). */
  decompress(block: Buffer): Promise<Headers> {
    const next = this.queue.then(() => this.take(block));
    this.queue = next.catch(() => {});
    return next;
  }

  private take(block: Buffer): Promise<Headers> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        if (this.failed) return reject(this.failed);
        const d = decodeHeaderBlock(this.out);
        if (!d) return;
        this.waiting = undefined;
        this.out = this.out.subarray(d.size);
        resolve(d.headers);
      };
      this.waiting = attempt;
      if (block.length) {
        this.inflate.write(block);
        this.inflate.flush(constants.Z_SYNC_FLUSH);
      }
      attempt();
    });
  }

  close(): void {
    this.inflate.destroy();
  }
}
