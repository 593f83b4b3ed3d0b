/**
 * FormatError alone, so that the CLI's error reporting can recognise it
 * without loading the template engine (formatter.ts re-exports it).
 */

/** A formatting failure, as docker reports it. */
export class FormatError extends Error {
  constructor(
    message: string,
    /** docker's exit status: 64 for an unparsable inspect template, else 1. */
    readonly exitCode: number,
    /** What docker prints to stdout anyway (other inspect objects). */
    readonly output = '',
  ) {
    super(message);
    this.name = 'FormatError';
  }
}
