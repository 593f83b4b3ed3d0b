/**
 * Regular expressions built from hostile input (API filters, Dockerfile and
 * .dockerignore patterns) must not backtrack: `(a+)+$` against a long name
 * would hold the daemon's event loop for minutes. dockerd's are Go's RE2,
 * linear by construction; V8 has a linear engine of its own (the `l` flag)
 * behind a flag that is only read when an expression is compiled, so setting
 * it here, before the first such expression, is safe. It rejects what cannot
 * run in linear time (back-references, look-arounds), as RE2 does.
 */
import { setFlagsFromString } from 'node:v8';

let enabled = false;

/** `pattern` compiled for V8's linear-time engine; throws SyntaxError as RegExp does. */
export function linearRegExp(pattern: string, flags = ''): RegExp {
  if (!enabled) {
    setFlagsFromString('--enable-experimental-regexp-engine');
    enabled = true;
  }
  return new RegExp(pattern, `${flags}l`);
}
