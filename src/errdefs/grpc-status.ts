import { asBerthError, type ErrorKind } from './errors.js';

/**
 * The one place that maps an error kind to a gRPC status code (the CRI
 * endpoint's equivalent of http-status.ts; codes from grpc's status.proto).
 */
const grpcCodeByKind: Record<ErrorKind, number> = {
  invalid_parameter: 3, // INVALID_ARGUMENT
  unauthorized: 16, // UNAUTHENTICATED
  forbidden: 7, // PERMISSION_DENIED
  not_found: 5, // NOT_FOUND
  conflict: 6, // ALREADY_EXISTS: a name or state conflict, as containerd answers a reused sandbox name
  not_modified: 9, // FAILED_PRECONDITION
  not_implemented: 12, // UNIMPLEMENTED
  unavailable: 14, // UNAVAILABLE
  deadline_exceeded: 4, // DEADLINE_EXCEEDED
  system: 13, // INTERNAL
  not_allowed: 12,
  too_large: 8, // RESOURCE_EXHAUSTED
  range_not_satisfiable: 11, // OUT_OF_RANGE
  too_many_requests: 8,
};

export function grpcStatusOf(err: unknown): number {
  return grpcCodeByKind[asBerthError(err).kind];
}
