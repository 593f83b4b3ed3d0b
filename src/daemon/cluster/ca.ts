/**
 * The cluster's root CA, made at `swarm init` (swarmkit's CreateRootCA):
 * CN=swarm-ca, an ECDSA P-256 key, valid 20 years. Every node certificate
 * chains to it directly; its digest (sha256 of the PEM bytes) is pinned by
 * the join tokens.
 *
 *   const ca = await createRootCA();
 *   ca.digest             // 'sha256:…', what generateJoinToken takes
 *   const creds = await issueNodeCertificate(ca, { nodeId, role: 'manager', clusterId });
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { InvalidParameter } from '../../errdefs/index.js';
import { rootCaProfile } from './cert-profile.js';
import { signCertificate } from './openssl-signer.js';

export interface RootCA {
  /** The root certificate PEM, byte for byte what the digest covers and what joining nodes receive. */
  certPem: string;
  /** The signing key (PKCS#8 PEM); absent on nodes that only verify. */
  keyPem?: string;
  /** `sha256:<hex>` of `certPem`. */
  digest: string;
}

/** The digest of a root CA bundle as swarmkit computes it: sha256 of the exact PEM bytes, `sha256:<hex>`. */
export function caDigest(caCertPem: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(caCertPem).digest('hex')}`;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** A new ECDSA P-256 private key as PKCS#8 PEM (what swarmkit writes for node keys). */
export async function newEcdsaKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPairAsync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return privateKey;
}

/** Every certificate in a PEM bundle, in order. */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

function spki(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' }).toString('hex');
}

/** Creates a new cluster root CA. */
export async function createRootCA(opts: { now?: Date } = {}): Promise<RootCA> {
  const keyPem = await newEcdsaKeyPem();
  const certPem = await signCertificate({ profile: rootCaProfile(opts.now ?? new Date()), subjectKeyPem: keyPem });
  return { certPem, keyPem, digest: caDigest(certPem) };
}

function invalidCa(message: string): InvalidParameter {
  return new InvalidParameter('swarm.invalid_ca', message);
}

/**
 * A root CA from its PEM (and key, if this node signs), checked as swarmkit's
 * NewRootCA: at least one certificate, each a self-signed CA with an ECDSA or
 * RSA SHA-2 signature, and a key that matches the first.
 */
export function rootCAFromPem(certPem: string, keyPem?: string): RootCA {
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(certPem);
  } catch (err) {
    throw invalidCa(`invalid root certificates: ${(err as Error).message}`);
  }
  if (!certs.length) throw invalidCa('no valid root CA certificates found');
  for (const c of certs) {
    if (!c.ca || !c.checkIssued(c) || !c.verify(c.publicKey)) {
      throw invalidCa(`error while validating Root CA Certificate: ${c.subject.replace(/\n/g, ', ')} is not a self-signed CA`);
    }
  }
  if (keyPem !== undefined) {
    let key: KeyObject;
    try {
      key = createPrivateKey(keyPem);
    } catch {
      throw invalidCa('invalid root CA key');
    }
    if (spki(certs[0]!.publicKey) !== spki(key)) throw invalidCa('certificate key mismatch');
  }
  return { certPem, ...(keyPem !== undefined ? { keyPem } : {}), digest: caDigest(certPem) };
}

/** The CA without its key: what a manager hands to a joining node. */
export function publicRootCA(ca: RootCA): RootCA {
  return { certPem: ca.certPem, digest: ca.digest };
}
