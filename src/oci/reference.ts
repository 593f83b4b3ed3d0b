/**
 * Docker image references: `[domain/]path[:tag][@digest]`, with Docker's
 * normalisation (`busybox` = `docker.io/library/busybox:latest`) and its
 * familiar form for display. Grammar from distribution/reference.
 */
import { InvalidParameter } from '../errdefs/index.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
export const NAME_TOTAL_LENGTH_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const domain = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;

const REFERENCE = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const ANCHORED_TAG = new RegExp(`^${tag}$`);
const ANCHORED_PATH = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const ANCHORED_HEX_ID = /^[a-f0-9]{64}$/;

export class InvalidReferenceError extends InvalidParameter {
  constructor(message: string) {
    super('reference.invalid', message);
  }
}

export interface Reference {
  /** Registry host, e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

function splitDomain(n: string): [string, string] {
  const i = n.indexOf('/');
  if (i === -1) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + n];
  const first = n.slice(0, i);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first) {
    return [DEFAULT_DOMAIN, n];
  }
  let d = first;
  let rest = n.slice(i + 1);
  if (d === LEGACY_DEFAULT_DOMAIN) d = DEFAULT_DOMAIN;
  if (d === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_REPO_PREFIX + rest;
  return [d, rest];
}

/**
 * Parses a user-supplied reference the way `docker` does (ParseNormalizedNamed).
 * Does not add a default tag; use `withDefaultTag` for that.
 */
export function parseReference(s: string): Reference {
  if (ANCHORED_HEX_ID.test(s)) {
    throw new InvalidReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const m = REFERENCE.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE.test(lower)) {
      throw new InvalidReferenceError(`invalid reference format: repository name (${s}) must be lowercase`);
    }
    throw new InvalidReferenceError('invalid reference format');
  }
  const [, rawName, t, d] = m as unknown as [string, string, string | undefined, string | undefined];
  const [dom, path] = splitDomain(rawName);
  if (!ANCHORED_PATH.test(path)) {
    throw new InvalidReferenceError(`invalid reference format: repository name (${path}) must be lowercase`);
  }
  if (dom.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const ref: Reference = { domain: dom, path };
  if (t !== undefined) ref.tag = t;
  if (d !== undefined) ref.digest = d;
  return ref;
}

export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

export function isValidTag(t: string): boolean {
  return ANCHORED_TAG.test(t);
}

/**
 * A repository name as a registry sees it (`library/busybox`, no domain):
 * lowercase path components joined by `/`, at most 255 characters.
 */
export function isValidRepositoryName(path: string): boolean {
  return path.length <= NAME_TOTAL_LENGTH_MAX && ANCHORED_PATH.test(path);
}

/** `docker.io/library/busybox` */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** `busybox`, `user/app`, `localhost:5000/app` */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.indexOf('/', OFFICIAL_REPO_PREFIX.length) === -1
    ? ref.path.slice(OFFICIAL_REPO_PREFIX.length)
    : ref.path;
}

function suffix(ref: Reference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** `docker.io/library/busybox:latest` */
export function fullString(ref: Reference): string {
  return fullName(ref) + suffix(ref);
}

/** `busybox:latest` */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

/** The reference `docker import` tags as: `repo[:tag]` and `tag` (never both tags, never a digest), familiar, default tag `latest`. */
export function importTarget(repo: string | undefined, tag: string | undefined): string | undefined {
  if (!repo) return undefined;
  const ref = parseReference(repo);
  if (tag) {
    if (ref.tag || ref.digest) throw new InvalidParameter('image.invalid_reference', 'invalid reference format: tag given twice');
    if (!isValidTag(tag)) throw new InvalidParameter('image.invalid_tag', `invalid tag format: ${tag}`);
    ref.tag = tag;
  }
  if (ref.digest) throw new InvalidParameter('image.invalid_reference', 'cannot import with a digest reference');
  return familiarString(withDefaultTag(ref));
}
