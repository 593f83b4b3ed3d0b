import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpStatusOf, isBerthError } from '../errdefs/index.js';
import { InvalidDigestError } from '../oci/index.js';
import { ERROR_CODES, knownRegistryError, RegistryError, type ErrorCode } from './errors.js';

/** The statuses the distribution spec (and distribution itself) answers each code with. */
const SPEC_STATUS: Record<ErrorCode, number> = {
  BLOB_UNKNOWN: 404, BLOB_UPLOAD_INVALID: 400, BLOB_UPLOAD_UNKNOWN: 404, DIGEST_INVALID: 400, MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400, MANIFEST_UNKNOWN: 404, NAME_INVALID: 400, NAME_UNKNOWN: 404, SIZE_INVALID: 400, UNAUTHORIZED: 401,
  DENIED: 403, UNSUPPORTED: 405, RANGE_INVALID: 416, TOOMANYREQUESTS: 429, UNKNOWN: 500,
};

test('each code answers the spec\'s status, through its errdefs kind', () => {
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const e = new RegistryError(code);
    assert.ok(isBerthError(e), code);
    assert.equal(e.status, SPEC_STATUS[code], code);
    assert.equal(httpStatusOf(e), SPEC_STATUS[code], code);
  }
});

test('a throw site may name another kind: a manifest too large is SIZE_INVALID with 413', () => {
  const e = new RegistryError('SIZE_INVALID', 'manifest is larger than 4 bytes', undefined, 'too_large');
  assert.equal(e.status, 413);
  assert.equal(e.code, 'SIZE_INVALID');
});

test('the body is the spec\'s shape, detail null when there is none', () => {
  assert.deepEqual(JSON.parse(new RegistryError('MANIFEST_UNKNOWN').body()), { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: null }] });
  const d = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(JSON.parse(new RegistryError('BLOB_UNKNOWN', undefined, { digest: d }).body()).errors[0].detail, { digest: d });
});

test('a digest the oci grammar refused is DIGEST_INVALID; anything else is left to the caller (UNKNOWN)', () => {
  assert.equal(knownRegistryError(new InvalidDigestError('invalid digest "x"'))?.code, 'DIGEST_INVALID');
  assert.equal(knownRegistryError(new Error('EIO')), undefined);
  const e = new RegistryError('DENIED');
  assert.equal(knownRegistryError(e), e);
});
