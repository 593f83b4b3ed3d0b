/**
 * Error kinds shared by the daemon, the registry, the client and the CLI.
 *
 * Every error carries a kind (its class) and a stable `code`; callers match on
 * the class or the code, never on the message. The one mapping from kind to
 * HTTP status lives in `http-status.ts`. Every code is listed in docs/errors.md.
 *
 *   throw new NotFound('container.not_found', `No such container: ${ref}`);
 */
export type ErrorKind =
  | 'invalid_parameter'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'not_modified'
  | 'not_implemented'
  | 'unavailable'
  | 'deadline_exceeded'
  | 'system'
  // the registry's (the distribution spec answers these statuses; the daemon does not)
  | 'not_allowed'
  | 'too_large'
  | 'range_not_satisfiable'
  | 'too_many_requests';

export abstract class BerthError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** The request is malformed or asks for something impossible (400). */
export class InvalidParameter extends BerthError {
  readonly kind = 'invalid_parameter';
}
/**
 * A build's RUN step that exited non-zero: the build stream reports the exit
 * code as `errorDetail.code`, and the CLI exits with it.
 */
export class BuildStepError extends InvalidParameter {
  constructor(message: string, readonly exitCode: number) {
    super('build.step_failed', message);
  }
}

/** Credentials are missing or wrong (401). */
export class Unauthorized extends BerthError {
  readonly kind = 'unauthorized';
}
/** Known caller, refused action (403). */
export class Forbidden extends BerthError {
  readonly kind = 'forbidden';
}
/** The object does not exist (404). */
export class NotFound extends BerthError {
  readonly kind = 'not_found';
}
/** The object's state forbids the action, or the name is taken (409). */
export class Conflict extends BerthError {
  readonly kind = 'conflict';
}
/** Nothing to do: already in the wanted state (304). */
export class NotModified extends BerthError {
  readonly kind = 'not_modified';
}
/** The feature exists in Docker but not (yet) here (501). */
export class NotImplemented extends BerthError {
  readonly kind = 'not_implemented';
}
/** A dependency is down or the daemon is shutting down (503). */
export class Unavailable extends BerthError {
  readonly kind = 'unavailable';
}
/** The operation outlived the time it was given (504; gRPC DEADLINE_EXCEEDED): a CRI ExecSync past its timeout. */
export class DeadlineExceeded extends BerthError {
  readonly kind = 'deadline_exceeded';
}
/** Anything else that went wrong inside (500). */
export class SystemError extends BerthError {
  readonly kind = 'system';
}

/** The operation is refused on this resource or this server: deletes disabled, read-only mode, a method a route lacks (405). */
export class NotAllowed extends BerthError {
  readonly kind = 'not_allowed';
}

/** The request's body is larger than accepted (413). */
export class TooLarge extends BerthError {
  readonly kind = 'too_large';
}

/** A byte range or chunk offset that does not fit what is stored (416). */
export class RangeNotSatisfiable extends BerthError {
  readonly kind = 'range_not_satisfiable';
}

/** Rate limited: try again later (429). */
export class TooManyRequests extends BerthError {
  readonly kind = 'too_many_requests';
}

const CLASS_OF_KIND: Record<ErrorKind, new (code: string, message: string) => BerthError> = {
  invalid_parameter: InvalidParameter, unauthorized: Unauthorized, forbidden: Forbidden, not_found: NotFound, conflict: Conflict,
  not_modified: NotModified, not_implemented: NotImplemented, unavailable: Unavailable, deadline_exceeded: DeadlineExceeded, system: SystemError,
  not_allowed: NotAllowed, too_large: TooLarge, range_not_satisfiable: RangeNotSatisfiable, too_many_requests: TooManyRequests,
};

/** An error of `kind` (a client rebuilding what the daemon answered). */
export function errorOfKind(kind: ErrorKind, code: string, message: string): BerthError {
  return new CLASS_OF_KIND[kind](code, message);
}

export function isBerthError(err: unknown): err is BerthError {
  return err instanceof BerthError;
}

/**
 * Wraps any thrown value as a BerthError, keeping BerthErrors as they are.
 * An unexpected error's message goes to a client: the host paths Node's
 * errno messages quote (`open '/var/lib/berth/…'`) are left out.
 */
export function asBerthError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SystemError('system.internal', message.replace(/'\/[^']*'/g, (p) => `'${p.slice(1, -1).split('/').pop()}'`), { cause: err });
}
