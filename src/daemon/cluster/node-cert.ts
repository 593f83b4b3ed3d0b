/**
 * Node certificates: issued by the cluster root CA for a node id, a role and
 * the cluster id (swarmkit's IssueAndSaveNewCertificates), read back and
 * checked on every mutual-TLS connection, and renewed with a fresh key before
 * they expire.
 *
 *   const creds = await issueNodeCertificate(ca, { nodeId, role: 'worker', clusterId, ipAddresses: ['10.0.0.2'] });
 *   verifyNodeCertificate(creds.certPem, ca.certPem)
 *     // { nodeId, role: 'worker', clusterId, notBefore, notAfter, ... }
 *   setTimeout(renew, renewalDelayMs(identity))   // between 50% and 80% of its life
 */
import { X509Certificate } from 'node:crypto';
import { InvalidParameter, Unauthorized } from '../../errdefs/index.js';
import { newEcdsaKeyPem, parseCertificates, type RootCA } from './ca.js';
import { nodeCertProfile, roleOfOu, type NodeCertRequest, type NodeRole } from './cert-profile.js';
import { signCertificate } from './openssl-signer.js';

export interface NodeCredentials {
  /** The node certificate (PEM). */
  certPem: string;
  /** Its private key, ECDSA P-256 as PKCS#8 PEM. Never log it. */
  keyPem: string;
}

/** Who a verified node certificate speaks for. */
export interface NodeIdentity {
  /** CN */
  nodeId: string;
  /** From OU: swarm-manager or swarm-worker. */
  role: NodeRole;
  /** O */
  clusterId: string;
  notBefore: Date;
  notAfter: Date;
  /** Hex, as X509Certificate gives it. */
  serialNumber: string;
}

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Issues a certificate and a new key for a node. The CA must hold its key. */
export async function issueNodeCertificate(ca: RootCA, req: NodeCertRequest, opts: { now?: Date } = {}): Promise<NodeCredentials> {
  if (!ca.keyPem) throw new InvalidParameter('swarm.invalid_ca', 'no valid signer found');
  const profile = nodeCertProfile(req, opts.now ?? new Date());
  const keyPem = await newEcdsaKeyPem();
  const certPem = await signCertificate({ profile, subjectKeyPem: keyPem, issuer: { certPem: firstCertificatePem(ca.certPem), keyPem: ca.keyPem } });
  return { certPem, keyPem };
}

/**
 * Renews a node's certificate: the current one must verify against the CA
 * (renewals are authenticated by it, as in swarmkit), the new one keeps its
 * node id and cluster id, gets a new key, and takes `role` if the node was
 * promoted or demoted.
 */
export async function renewNodeCertificate(
  ca: RootCA,
  currentCertPem: string,
  changes: Omit<Partial<NodeCertRequest>, 'nodeId' | 'clusterId'> = {},
  opts: { now?: Date } = {},
): Promise<NodeCredentials> {
  const current = verifyNodeCertificate(currentCertPem, ca.certPem, opts);
  return issueNodeCertificate(ca, { ...changes, nodeId: current.nodeId, clusterId: current.clusterId, role: changes.role ?? current.role }, opts);
}

function firstCertificatePem(pem: string): string {
  return parseCertificates(pem)[0]?.toString() ?? pem;
}

function invalidCert(message: string): Unauthorized {
  return new Unauthorized('swarm.certificate_invalid', message);
}

/** Go's time.RFC1123 in UTC: `Mon, 02 Jan 2006 15:04:05 UTC`. */
function rfc1123(t: Date): string {
  return t.toUTCString().replace(/GMT$/, 'UTC');
}

/** The first value of `field` in a Node subject/issuer string (one `KEY=value` a line). */
function dnField(dn: string, field: string): string | undefined {
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && line.slice(0, eq) === field) return line.slice(eq + 1);
  }
  return undefined;
}

/** Reads id, role and cluster from a node certificate without checking it (use verifyNodeCertificate for trust). */
export function readNodeIdentity(cert: X509Certificate): NodeIdentity {
  const nodeId = dnField(cert.subject, 'CN');
  const ou = dnField(cert.subject, 'OU');
  const clusterId = dnField(cert.subject, 'O');
  const role = roleOfOu(ou);
  if (!role) throw invalidCert(`failed to parse role: ${ou ?? ''}`);
  if (!nodeId || !clusterId) throw invalidCert('not a swarm node certificate: no node ID (CN) or cluster ID (O)');
  return { nodeId, role, clusterId, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo), serialNumber: cert.serialNumber };
}

/**
 * Checks that `certPem` (a leaf, possibly followed by nothing else) is a
 * current node certificate issued by one of the roots in `caCertPem`, as
 * swarmkit's ValidateCertChain, and returns who it is for. Messages are
 * swarmkit's and Go's:
 *   certificate (1 - <CN>) not valid after <RFC1123>, and it is currently <RFC1123>
 *   x509: certificate signed by unknown authority
 */
export function verifyNodeCertificate(certPem: string, caCertPem: string, opts: { now?: Date; allowExpired?: boolean } = {}): NodeIdentity {
  let leaf: X509Certificate | undefined;
  let roots: X509Certificate[];
  try {
    leaf = parseCertificates(certPem)[0];
    roots = parseCertificates(caCertPem);
  } catch (err) {
    throw invalidCert(`invalid certificate: ${(err as Error).message}`);
  }
  if (!leaf) throw invalidCert('no certificates to validate');
  return verifyLeaf(leaf, roots, opts);
}

/** verifyNodeCertificate for an already parsed certificate (a TLS peer's). */
export function verifyLeaf(leaf: X509Certificate, roots: readonly X509Certificate[], opts: { now?: Date; allowExpired?: boolean } = {}): NodeIdentity {
  const now = opts.now ?? new Date();
  const cn = dnField(leaf.subject, 'CN') ?? '';
  const from = new Date(leaf.validFrom);
  const to = new Date(leaf.validTo);
  if (now < from) throw invalidCert(`certificate (1 - ${cn}) not valid before ${rfc1123(from)}, and it is currently ${rfc1123(now)}`);
  if (!opts.allowExpired && now > to) throw invalidCert(`certificate (1 - ${cn}) not valid after ${rfc1123(to)}, and it is currently ${rfc1123(now)}`);
  const issuer = roots.find((r) => r.ca && leaf.checkIssued(r) && leaf.verify(r.publicKey));
  if (!issuer) throw invalidCert('x509: certificate signed by unknown authority');
  const at = opts.allowExpired ? to : now;
  if (at < new Date(issuer.validFrom) || at > new Date(issuer.validTo)) {
    throw invalidCert('x509: certificate has expired or is not yet valid: the root CA is not valid at this time');
  }
  if (leaf.ca) throw invalidCert('not a swarm node certificate: it is a CA');
  const eku = leaf.keyUsage ?? [];
  if (!eku.includes(OID_SERVER_AUTH) || !eku.includes(OID_CLIENT_AUTH)) {
    throw invalidCert('x509: certificate specifies an incompatible key usage');
  }
  return readNodeIdentity(leaf);
}

/**
 * When to renew: a random point between 50% and 80% of the certificate's
 * validity (swarmkit's calculateRandomExpiry, against thundering herds), as
 * a delay from `now`; 0 if that point has passed.
 */
export function renewalDelayMs(identity: Pick<NodeIdentity, 'notBefore' | 'notAfter'>, now = new Date(), random: () => number = Math.random): number {
  const minutes = (identity.notAfter.getTime() - identity.notBefore.getTime()) / 60_000;
  const min = Math.trunc(minutes * 0.5);
  const max = Math.trunc(minutes * 0.8);
  const pick = max - min < 1 ? min : min + Math.floor(random() * (max - min));
  return Math.max(0, identity.notBefore.getTime() + pick * 60_000 - now.getTime());
}
