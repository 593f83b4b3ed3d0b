/** What a handler knows about its request: params, query helpers, the JSON body. */
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { Filters } from '../../api/filters.js';
import { shapeMismatch, type Shape } from '../../api/shape.js';
import { InvalidParameter } from '../../errdefs/index.js';
import { versionAtLeast } from '../../api/version.js';
import type { Reply } from './reply.js';
import type { ByteBudget } from './transport/limits.js';

export const DEFAULT_JSON_LIMIT = 8 << 20;

export class Request {
  constructor(
    readonly raw: IncomingMessage,
    readonly params: Record<string, string>,
    readonly query: URLSearchParams,
    /** The API version the client asked for (or the maximum). */
    readonly apiVersion: string,
    /** For upgraded requests: the body, already read off the socket. */
    private readonly upgradeBody?: Buffer,
    /** The server's JSON body limits: each body, and all bodies being read at once. */
    private readonly limits: { maxJsonBody: number; budget?: ByteBudget; maxUpload?: number } = { maxJsonBody: DEFAULT_JSON_LIMIT },
  ) {}

  /**
   * The body as a stream (image load and import, build contexts,
   * archives), cut off with a 400 past the daemon's max-upload-size: the
   * bytes stop flowing and the connection is closed after the answer.
   */
  upload(): Readable {
    const limit = this.limits.maxUpload ?? Infinity;
    const declared = Number(this.raw.headers['content-length'] ?? 0);
    const tooLarge = () => new InvalidParameter('request.upload_too_large', `request body exceeds the daemon's max-upload-size of ${limit} bytes`);
    if (declared > limit) throw tooLarge();
    let seen = 0;
    const raw = this.raw;
    // never the request itself: a reader that fails destroys what it reads (a `for await` that
    // throws does), and destroying the request resets the connection before the client has read
    // the answer (it sees a broken pipe); the server drains what is left instead (http-server.ts)
    const body = new Transform({
      // a build context or an image arrives at the client's pace: with the default 16 KiB the socket
      // paused after every read while the reader caught up (the docker CLI's 50 MB context: ~1/3 slower)
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (seen <= limit) return cb(null, chunk);
        raw.unpipe(body);
        cb(tooLarge());
      },
    });
    raw.on('error', (err) => body.destroy(err));
    // a client gone in the middle of its body: its reader must fail, not wait for the rest
    raw.on('close', () => {
      if (!raw.complete) body.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
    // readers see the error through their own pipeline or iterator; a client gone after the handler
    // let go of the body must not become an unhandled 'error' that ends the daemon
    body.on('error', () => {});
    return raw.pipe(body);
  }

  param(name: string): string {
    return this.params[name] ?? '';
  }

  str(name: string): string | undefined {
    return this.query.get(name) ?? undefined;
  }

  strs(name: string): string[] {
    return this.query.getAll(name);
  }

  /** moby's boolean rule: '', 0, no, false, none are false; anything else is true. */
  bool(name: string, dflt = false): boolean {
    const v = this.query.get(name);
    if (v === null) return dflt;
    return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
  }

  int(name: string, dflt?: number): number | undefined {
    const v = this.query.get(name);
    if (v === null || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidParameter('request.invalid_integer', `invalid value for ${name}: ${v}`);
    return n;
  }

  atLeast(version: string): boolean {
    return versionAtLeast(this.apiVersion, version);
  }

  /** The `filters` parameter (the list and the map-of-bool forms). */
  filters(): Filters {
    return Filters.parse(this.query.get('filters'));
  }

  private hasBody(): boolean {
    const len = this.raw.headers['content-length'];
    return len !== undefined ? Number(len) > 0 : this.raw.headers['transfer-encoding'] !== undefined;
  }

  /**
   * The JSON body, or `undefined` when there is none, checked against the Go
   * type dockerd decodes it into. Docker requires the JSON content type.
   */
  async json<T>(shape: Shape, limit = this.limits.maxJsonBody): Promise<T | undefined> {
    if (!this.hasBody()) return undefined;
    if (this.upgradeBody) return this.parse<T>(this.upgradeBody.toString('utf8'), shape);
    const ct = this.raw.headers['content-type'] ?? '';
    if (!/^application\/json\b/.test(ct)) {
      throw new InvalidParameter('request.content_type', `Content-Type specified (${ct}) must be 'application/json'`);
    }
    const declared = Number(this.raw.headers['content-length'] ?? 0);
    if (declared > limit) throw new InvalidParameter('request.body_too_large', `request body exceeds ${limit} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of this.raw as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > limit) throw new InvalidParameter('request.body_too_large', `request body exceeds ${limit} bytes`);
        this.limits.budget?.take(c.length);
        chunks.push(c);
      }
    } finally {
      this.limits.budget?.give(chunks.reduce((n, c) => n + c.length, 0));
    }
    return this.parse<T>(Buffer.concat(chunks).toString('utf8'), shape);
  }

  private parse<T>(text: string, shape: Shape): T | undefined {
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InvalidParameter('request.invalid_json', `invalid JSON: ${(err as Error).message}`);
    }
    const mismatch = shapeMismatch(value, shape);
    if (mismatch) throw new InvalidParameter('request.body_type', mismatch);
    return (value ?? undefined) as T | undefined;
  }
}

export type Handler = (req: Request, reply: Reply) => Promise<void> | void;
