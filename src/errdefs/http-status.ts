import { asBerthError, type ErrorKind } from './errors.js';

/** The one place that maps an error kind to an HTTP status (moby's errdefs/http_helpers.go). */
const statusByKind: Record<ErrorKind, number> = {
  invalid_parameter: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  not_modified: 304,
  not_implemented: 501,
  unavailable: 503,
  deadline_exceeded: 504, // moby's errdefs.Deadline
  system: 500,
  not_allowed: 405,
  too_large: 413,
  range_not_satisfiable: 416,
  too_many_requests: 429,
};

export function httpStatusOf(err: unknown): number {
  return statusByKind[asBerthError(err).kind];
}

/** The kind a client should assume for an HTTP error status it received. */
export function kindOfHttpStatus(status: number): ErrorKind {
  for (const [kind, s] of Object.entries(statusByKind)) if (s === status) return kind as ErrorKind;
  return status >= 500 ? 'system' : 'invalid_parameter';
}
