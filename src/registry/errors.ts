/**
 * The distribution spec's error codes (spec.md, "Error Codes"), each
 * registered once with its errdefs kind and default message. The kind
 * decides the HTTP status, through the one mapping in errdefs/http-status.ts
 * (BLOB_UNKNOWN → not_found → 404); a throw site with a reason to answer
 * otherwise names another kind (a manifest over the size limit is
 * SIZE_INVALID as `too_large`, 413). Registry handlers throw these; the
 * server writes them as `{"errors":[{"code","message","detail"}]}`.
 *
 *   throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });   // 404
 */
import { BerthError, httpStatusOf, type ErrorKind } from '../errdefs/index.js';
import { InvalidDigestError } from '../oci/index.js';

export const ERROR_CODES = {
  BLOB_UNKNOWN: ['not_found', 'blob unknown to registry'],
  BLOB_UPLOAD_INVALID: ['invalid_parameter', 'blob upload invalid'],
  BLOB_UPLOAD_UNKNOWN: ['not_found', 'blob upload unknown to registry'],
  DIGEST_INVALID: ['invalid_parameter', 'provided digest did not match uploaded content'],
  MANIFEST_BLOB_UNKNOWN: ['invalid_parameter', 'manifest references a manifest or blob unknown to registry'],
  MANIFEST_INVALID: ['invalid_parameter', 'manifest invalid'],
  MANIFEST_UNKNOWN: ['not_found', 'manifest unknown'],
  NAME_INVALID: ['invalid_parameter', 'invalid repository name'],
  NAME_UNKNOWN: ['not_found', 'repository name not known to registry'],
  SIZE_INVALID: ['invalid_parameter', 'provided length did not match content length'],
  UNAUTHORIZED: ['unauthorized', 'authentication required'],
  DENIED: ['forbidden', 'requested access to the resource is denied'],
  UNSUPPORTED: ['not_allowed', 'the operation is unsupported'],
  RANGE_INVALID: ['range_not_satisfiable', 'invalid content range'],
  TOOMANYREQUESTS: ['too_many_requests', 'too many requests'],
  /** distribution's code for a failure on the registry's side */
  UNKNOWN: ['system', 'unknown error'],
} as const satisfies Record<string, readonly [ErrorKind, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RegistryError extends BerthError {
  declare readonly code: ErrorCode;
  readonly kind: ErrorKind;
  /** With UNAUTHORIZED: the WWW-Authenticate challenge, when it is not the server's default (a token's scope and error). */
  challenge?: string;

  constructor(code: ErrorCode, message?: string, readonly detail?: unknown, kind?: ErrorKind) {
    super(code, message ?? ERROR_CODES[code][1]);
    this.kind = kind ?? ERROR_CODES[code][0];
  }

  /** The HTTP status, from the kind. */
  get status(): number {
    return httpStatusOf(this);
  }

  body(): string {
    return JSON.stringify({ errors: [{ code: this.code, message: this.message, detail: this.detail ?? null }] });
  }
}

/**
 * What the server answers for a thrown value: a RegistryError as it is; a
 * digest the oci grammar refused as DIGEST_INVALID; anything else is the
 * registry's own failure (UNKNOWN, 500), undefined here so the caller can
 * log it first.
 */
export function knownRegistryError(err: unknown): RegistryError | undefined {
  if (err instanceof RegistryError) return err;
  if (err instanceof InvalidDigestError) return new RegistryError('DIGEST_INVALID', err.message);
  return undefined;
}
