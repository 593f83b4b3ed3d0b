import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { caDigest } from './ca.js';
import {
  checkCaAgainstToken, generateJoinToken, generateJoinTokens, JOIN_TOKEN_PATTERN, parseJoinToken, roleForJoinToken, rotateJoinTokens,
} from './join-token.js';

const caPem = '-----BEGIN CERTIFICATE-----\nnot parsed here: the digest covers the bytes\n-----END CERTIFICATE-----\n';
const otherCaPem = caPem.replace('here', 'there');
const digest = caDigest(caPem);

function code(c: string, message?: string) {
  return (err: unknown) => {
    const e = err as { code: string; message: string };
    assert.equal(e.code, c);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  };
}

test('the CA digest is sha256 of the exact PEM bytes', () => {
  assert.equal(digest, `sha256:${createHash('sha256').update(caPem).digest('hex')}`);
  assert.notEqual(caDigest(caPem.trimEnd()), digest);
});

test('a token is SWMTKN-1-<50 base-36 digest>-<25 base-36 secret>, 85 characters', () => {
  const token = generateJoinToken(digest);
  assert.match(token, JOIN_TOKEN_PATTERN);
  assert.equal(token.length, 85);
  assert.notEqual(generateJoinToken(digest), token);
});

test('the digest and the secret are base 36 of the sha256 and of 16 random bytes, zero-padded', () => {
  const emptyDigest = `sha256:${createHash('sha256').update('').digest('hex')}`;
  assert.equal(
    generateJoinToken(emptyDigest, { random: (n) => Buffer.alloc(n, 0xff) }),
    'SWMTKN-1-5oaq0bjhj6un82wg98mgigso5q7qlhc63je4gw7ivixqqhkd3p-f5lxx1zz5pnorynqglhzmsp33',
  );
  const zero = generateJoinToken(`sha256:${'0'.repeat(64)}`, { random: (n) => Buffer.alloc(n, 0) });
  assert.equal(zero, `SWMTKN-1-${'0'.repeat(50)}-${'0'.repeat(25)}`);
});

test('parsing a generated token gives back the CA digest and the secret', () => {
  const token = generateJoinToken(digest);
  const parsed = parseJoinToken(token);
  assert.deepEqual(parsed, { version: 1, rootDigest: digest, secret: token.slice(-25), fips: false });
});

test('a FIPS cluster gets a v2 token, which parses with fips set', () => {
  const token = generateJoinToken(digest, { fips: true });
  assert.match(token, /^SWMTKN-2-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  assert.deepEqual(parseJoinToken(token), { version: 2, rootDigest: digest, secret: token.slice(-25), fips: true });
  assert.equal(parseJoinToken(token.replace('SWMTKN-2-1-', 'SWMTKN-2-0-')).fips, false);
});

test('malformed tokens are refused with "invalid join token"', () => {
  const good = generateJoinToken(digest);
  const [, , d, s] = good.split('-');
  for (const bad of [
    '',
    'invalidtoken',
    `SWMTKX-1-${d}-${s}`, // wrong prefix
    `swmtkn-1-${d}-${s}`, // the prefix is case-sensitive
    `SWMTKN-0-${d}-${s}`, // unknown version
    `SWMTKN-3-${d}-${s}`,
    `SWMTKN-2-${d}-${s}`, // v2 needs 5 parts
    `SWMTKN-2-7-${d}-${s}`, // v2's FIPS field is 0 or 1
    `SWMTKN-1-1-${d}-${s}`, // v1 has 4 parts
    `SWMTKN-1-${d}-${s}x`, // secret too long
    `SWMTKN-1-${d}-${s!.slice(1)}`, // secret too short (swarmkit's "mistyped" case)
    `SWMTKN-1-${d!.slice(1)}-${s}`, // digest too short
    `SWMTKN-1-${d}0-${s}`, // digest too long
    `SWMTKN-1-${d!.slice(1)}_-${s}`, // not base 36
    `${good}-`,
  ]) {
    assert.throws(() => parseJoinToken(bad), code('swarm.invalid_join_token', 'invalid join token'), bad);
  }
});

test('a 50-digit digest above 2^256 is refused as go-digest does', () => {
  assert.throws(() => parseJoinToken(`SWMTKN-1-${'z'.repeat(50)}-${'0'.repeat(25)}`), code('swarm.invalid_join_token', 'invalid checksum digest length'));
});

test('the joining node accepts the CA the token pins and refuses another', () => {
  const token = generateJoinToken(digest);
  checkCaAgainstToken(token, caPem);
  checkCaAgainstToken(parseJoinToken(token), Buffer.from(caPem));
  assert.throws(() => checkCaAgainstToken(token, otherCaPem),
    code('swarm.ca_mismatch', `remote CA does not match fingerprint. Expected: ${digest.slice('sha256:'.length)}`));
  // a well-formed token for some other cluster (swarmkit's own test vector)
  assert.throws(() => checkCaAgainstToken('SWMTKN-1-1kxftv4ofnc6mt30lmgipg6ngf9luhwqopfk1tz6bdmnkubg0e-4myj5xihyto11dg1cn55w8p61', caPem), code('swarm.ca_mismatch'));
  assert.throws(() => checkCaAgainstToken('SWMTKN-2-0-1kxftv4ofnc6mt30lmgipg6ngf9luhwqopfk1tz6bdmnkubg0e-4myj5xihyto11dg1cn55w8p61', caPem), code('swarm.ca_mismatch'));
  assert.throws(() => checkCaAgainstToken('invalidtoken', caPem), code('swarm.invalid_join_token'));
});

test('the manager grants the role of the token presented, and refuses any other', () => {
  const tokens = generateJoinTokens(digest);
  assert.notEqual(tokens.worker, tokens.manager);
  assert.equal(roleForJoinToken(tokens.worker, tokens), 'worker');
  assert.equal(roleForJoinToken(tokens.manager, tokens), 'manager');
  assert.throws(() => roleForJoinToken(generateJoinToken(digest), tokens),
    code('swarm.join_token_rejected', 'A valid join token is necessary to join this cluster'));
  assert.throws(() => roleForJoinToken('', tokens), code('swarm.join_token_rejected'));
});

test('rotating the worker token changes its secret only; the old one stops working', () => {
  const before = generateJoinTokens(digest);
  const after = rotateJoinTokens(before, digest, { worker: true });
  assert.equal(after.manager, before.manager);
  assert.notEqual(after.worker, before.worker);
  assert.equal(parseJoinToken(after.worker).rootDigest, digest);
  assert.notEqual(parseJoinToken(after.worker).secret, parseJoinToken(before.worker).secret);
  assert.throws(() => roleForJoinToken(before.worker, after), code('swarm.join_token_rejected'));
  assert.equal(roleForJoinToken(after.worker, after), 'worker');
  const both = rotateJoinTokens(after, digest, { worker: true, manager: true });
  assert.notEqual(both.worker, after.worker);
  assert.notEqual(both.manager, after.manager);
});

test('a new root CA gives tokens with a new digest, and old tokens no longer pin it', () => {
  const before = generateJoinTokens(digest);
  const newDigest = caDigest(otherCaPem);
  const after = rotateJoinTokens(before, newDigest, { worker: true, manager: true });
  assert.equal(parseJoinToken(after.manager).rootDigest, newDigest);
  checkCaAgainstToken(after.worker, otherCaPem);
  assert.throws(() => checkCaAgainstToken(before.worker, otherCaPem), code('swarm.ca_mismatch'));
});
