/** Repository names and references as the distribution spec allows them (pure). */
import { RegistryError } from './errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
export const NAME_MAX = 255;

export function checkName(name: string): void {
  if (name.length > NAME_MAX || !NAME.test(name)) throw new RegistryError('NAME_INVALID', `invalid repository name: ${name.slice(0, 300)}`);
}

export function isDigest(ref: string): boolean {
  return DIGEST.test(ref);
}

export function checkDigest(ref: string): void {
  if (!isDigest(ref)) throw new RegistryError('DIGEST_INVALID', `invalid digest: ${ref.slice(0, 100)}`);
}

export function isReference(ref: string): boolean {
  return isDigest(ref) || TAG.test(ref);
}

/** A manifest reference: a tag or a sha256 digest. */
export function checkReference(ref: string): void {
  if (isDigest(ref)) return;
  if (ref.startsWith('sha256:') || ref.includes(':')) throw new RegistryError('DIGEST_INVALID', `invalid digest: ${ref.slice(0, 100)}`);
  if (!TAG.test(ref)) throw new RegistryError('MANIFEST_INVALID', `invalid tag: ${ref.slice(0, 200)}`);
}
