/**
 * Swarm join tokens, in Docker's exact shape (swarmkit `ca/config.go`):
 *
 *   SWMTKN-1-<CA digest>-<secret>
 *            │            └ 16 random bytes in base 36, zero-padded to 25 characters
 *            └ the sha256 of the root CA certificate's PEM bytes in base 36, zero-padded to 50
 *   SWMTKN-2-<0|1>-<CA digest>-<secret>   (v2: the middle field says the cluster mandates FIPS)
 *
 * The cluster keeps one worker and one manager token. A joining node:
 *   1. parses its token (`parseJoinToken`, "invalid join token" otherwise),
 *   2. fetches the root CA from the manager without verifying the TLS chain,
 *      and pins it: `checkCaAgainstToken` refuses a CA whose digest differs,
 *   3. sends the token with its CSR; the manager matches it in constant time
 *      (`roleForJoinToken`) and issues a worker or manager certificate.
 * Rotation replaces the secret only (`rotateJoinTokens`); a new root CA
 * replaces both tokens, since their digest changes.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Forbidden, InvalidParameter } from '../../errdefs/index.js';
import { caDigest } from './ca.js';
import { bytesToBigInt, fromBase36, toBase36 } from './ids.js';

const PREFIX = 'SWMTKN';
const SECRET_BYTES = 16;
/** ceil(log36(2^128 - 1)) */
export const JOIN_TOKEN_SECRET_LENGTH = 25;
/** ceil(log36(2^256 - 1)) */
export const JOIN_TOKEN_DIGEST_LENGTH = 50;
/** A v1 token, the only kind generated for a non-FIPS cluster. */
export const JOIN_TOKEN_PATTERN = /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/;

export type JoinRole = 'worker' | 'manager';

export interface JoinTokens {
  worker: string;
  manager: string;
}

export interface ParsedJoinToken {
  version: 1 | 2;
  /** `sha256:<64 hex>`, the digest the root CA must have. */
  rootDigest: string;
  /** The random part: what rotation changes. */
  secret: string;
  fips: boolean;
}

/** The message swarmkit and dockerd give for every malformed token. */
function invalidJoinToken(): InvalidParameter {
  return new InvalidParameter('swarm.invalid_join_token', 'invalid join token');
}

function hexOfDigest(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new InvalidParameter('swarm.invalid_ca', `invalid CA digest: ${digest}`);
  return m[1]!;
}

/**
 * A new join token for the root CA of digest `rootDigest` (`caDigest(pem)`).
 * `fips` makes a v2 token (`SWMTKN-2-1-…`), as swarmkit does for clusters
 * that mandate FIPS; otherwise v1.
 */
export function generateJoinToken(rootDigest: string, opts: { fips?: boolean; random?: (size: number) => Uint8Array } = {}): string {
  const secret = bytesToBigInt((opts.random ?? randomBytes)(SECRET_BYTES));
  const digest = BigInt(`0x${hexOfDigest(rootDigest)}`);
  const head = opts.fips ? `${PREFIX}-2-1` : `${PREFIX}-1`;
  return `${head}-${toBase36(digest, JOIN_TOKEN_DIGEST_LENGTH)}-${toBase36(secret, JOIN_TOKEN_SECRET_LENGTH)}`;
}

/** Both tokens for a new cluster (swarm init) or a new root CA. */
export function generateJoinTokens(rootDigest: string, opts: { fips?: boolean } = {}): JoinTokens {
  return { worker: generateJoinToken(rootDigest, opts), manager: generateJoinToken(rootDigest, opts) };
}

/**
 * Reads a token as swarmkit's ParseJoinToken: split on `-`; `SWMTKN`; version
 * 1 with 4 parts or 2 with 5 parts and a FIPS field of 0 or 1; a 50-character
 * digest and a 25-character secret. Anything else is "invalid join token".
 */
export function parseJoinToken(token: string): ParsedJoinToken {
  const parts = token.split('-');
  const n = parts.length;
  if (n < 4 || parts[0] !== PREFIX) throw invalidJoinToken();
  let version: 1 | 2;
  let fips = false;
  switch (parts[1]) {
    case '1':
      if (n !== 4) throw invalidJoinToken();
      version = 1;
      break;
    case '2':
      if (n !== 5 || (parts[2] !== '0' && parts[2] !== '1')) throw invalidJoinToken();
      version = 2;
      fips = parts[2] === '1';
      break;
    default:
      throw invalidJoinToken();
  }
  const secret = parts[n - 1]!;
  const digestText = parts[n - 2]!;
  if (digestText.length !== JOIN_TOKEN_DIGEST_LENGTH || secret.length !== JOIN_TOKEN_SECRET_LENGTH) throw invalidJoinToken();
  // swarmkit ignores a failed base-36 parse here and later fails on the digest; berth says what it is.
  const digest = fromBase36(digestText);
  if (digest === undefined) throw invalidJoinToken();
  const hex = digest.toString(16).padStart(64, '0');
  // 50 base-36 digits can exceed 2^256; go-digest refuses the result with this message.
  if (hex.length !== 64) throw new InvalidParameter('swarm.invalid_join_token', 'invalid checksum digest length');
  return { version, rootDigest: `sha256:${hex}`, secret, fips };
}

/**
 * The joining node's pin: the CA bundle a manager presented (its exact PEM
 * bytes) must have the digest the token carries. Throws swarmkit's
 * "remote CA does not match fingerprint. Expected: <hex>" otherwise.
 */
export function checkCaAgainstToken(token: string | ParsedJoinToken, caCertPem: string | Uint8Array): void {
  const parsed = typeof token === 'string' ? parseJoinToken(token) : token;
  const want = Buffer.from(parsed.rootDigest);
  const got = Buffer.from(caDigest(caCertPem));
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    throw new Forbidden('swarm.ca_mismatch', `remote CA does not match fingerprint. Expected: ${hexOfDigest(parsed.rootDigest)}`);
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The manager's side: the role a presented token grants, compared in constant
 * time against the cluster's current tokens (manager first, as swarmkit).
 */
export function roleForJoinToken(token: string, current: JoinTokens): JoinRole {
  if (sameToken(current.manager, token)) return 'manager';
  if (sameToken(current.worker, token)) return 'worker';
  throw new InvalidParameter('swarm.join_token_rejected', 'A valid join token is necessary to join this cluster');
}

/**
 * `docker swarm join-token --rotate worker|manager`: a new secret for the
 * chosen tokens, same CA digest; the old token stops working at once, nodes
 * already joined keep their certificates.
 */
export function rotateJoinTokens(current: JoinTokens, rootDigest: string, rotate: { worker?: boolean; manager?: boolean }, opts: { fips?: boolean } = {}): JoinTokens {
  return {
    worker: rotate.worker ? generateJoinToken(rootDigest, opts) : current.worker,
    manager: rotate.manager ? generateJoinToken(rootDigest, opts) : current.manager,
  };
}
