/**
 * A minimal PKCS#10 certificate request (RFC 2986), made in-process so that
 * signing a certificate runs one openssl (`ca`) instead of two (`req`, then
 * `ca`): each spawn costs 0.1–0.2 s on a loaded machine, and `swarm init`
 * and every join sign on their critical path.
 *
 *   CertificationRequest ::= SEQUENCE {
 *     SEQUENCE { INTEGER 0, Name (CN=csr), SubjectPublicKeyInfo, [0] {} },
 *     AlgorithmIdentifier ecdsa-with-SHA256,
 *     BIT STRING signature }
 *
 * The subject is a placeholder, as in openssl-signer.ts: `ca -subj` sets the
 * real one. Only EC keys (what berth generates): for another kind
 * `requestPem` returns undefined and the caller asks openssl.
 */
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';

function der(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const SEQUENCE = 0x30;
const VERSION_0 = Buffer.from([0x02, 0x01, 0x00]);
/** Name: CN=csr */
const PLACEHOLDER_NAME = der(SEQUENCE, der(0x31, der(SEQUENCE, Buffer.concat([Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]), der(0x0c, Buffer.from('csr'))]))));
const NO_ATTRIBUTES = Buffer.from([0xa0, 0x00]);
/** AlgorithmIdentifier { 1.2.840.10045.4.3.2 } */
const ECDSA_WITH_SHA256 = der(SEQUENCE, Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));

/** A PEM certificate request for `keyPem`, signed by it; undefined if the key is not an EC key this can sign with. */
export function requestPem(keyPem: string): string | undefined {
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    return undefined; // openssl says what is wrong with it
  }
  if (key.asymmetricKeyType !== 'ec') return undefined;
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const info = der(SEQUENCE, Buffer.concat([VERSION_0, PLACEHOLDER_NAME, spki, NO_ATTRIBUTES]));
  const signature = sign('sha256', info, key); // DER-encoded ECDSA-Sig-Value
  const csr = der(SEQUENCE, Buffer.concat([info, ECDSA_WITH_SHA256, der(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
  const b64 = csr.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`;
}
