/**
 * A request's repository name, reference and digest, checked against the
 * grammar of src/oci/ and refused with the distribution spec's codes.
 * Digests are sha256 only: the only algorithm the registry stores by.
 */
import { isSha256Digest, isValidRepositoryName, isValidTag } from '../oci/index.js';
import { RegistryError } from './errors.js';

export function checkName(name: string): void {
  if (!isValidRepositoryName(name)) throw new RegistryError('NAME_INVALID', `invalid repository name: ${name.slice(0, 300)}`);
}

export function checkDigest(ref: string): void {
  if (!isSha256Digest(ref)) throw new RegistryError('DIGEST_INVALID', `invalid digest: ${ref.slice(0, 100)}`);
}

/** A tag or a sha256 digest. */
export function isReference(ref: string): boolean {
  return isSha256Digest(ref) || isValidTag(ref);
}

/** A manifest reference: a tag or a sha256 digest. */
export function checkReference(ref: string): void {
  if (isSha256Digest(ref)) return;
  if (ref.includes(':')) throw new RegistryError('DIGEST_INVALID', `invalid digest: ${ref.slice(0, 100)}`);
  if (!isValidTag(ref)) throw new RegistryError('MANIFEST_INVALID', `invalid tag: ${ref.slice(0, 200)}`);
}
