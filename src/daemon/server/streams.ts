/** Helpers for streamed responses: newline-delimited JSON, with errors inside the stream. */
import type { Writable } from 'node:stream';
import { asBerthError } from '../../errdefs/index.js';
import type { JSONMessage } from '../../api/types/index.js';
import type { Reply } from './reply.js';

export interface JsonLines {
  write(msg: unknown): void;
  /** Reports a failure after the 200 went out, as Docker does: `errorDetail` and `error`. */
  fail(err: unknown): void;
  end(): void;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export function jsonLines(reply: Reply, contentType = 'application/json'): JsonLines {
  const out: Writable = reply.stream(200, { 'Content-Type': contentType });
  const ac = new AbortController();
  out.once('close', () => ac.abort());
  out.on('error', () => ac.abort());
  return {
    write(msg) {
      if (!out.writableEnded && !out.destroyed) out.write(JSON.stringify(msg) + '\n');
    },
    fail(err) {
      const message = asBerthError(err).message;
      const m: JSONMessage = { errorDetail: { message }, error: message };
      this.write(m);
    },
    end() {
      if (!out.writableEnded) out.end();
    },
    signal: ac.signal,
  };
}

/** Like jsonLines, but sends the 200 only with the first message, so an early failure can still be a plain HTTP error. */
export function lazyJsonLines(reply: Reply, contentType = 'application/json'): JsonLines & { readonly started: boolean } {
  let inner: JsonLines | undefined;
  const ac = new AbortController();
  const start = () => {
    if (!inner) {
      inner = jsonLines(reply, contentType);
      inner.signal.addEventListener('abort', () => ac.abort());
    }
    return inner;
  };
  return {
    get started() {
      return inner !== undefined;
    },
    write: (msg) => start().write(msg),
    fail: (err) => start().fail(err),
    end: () => start().end(),
    signal: ac.signal,
  };
}
