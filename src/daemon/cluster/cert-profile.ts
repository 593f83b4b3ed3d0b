/**
 * What goes into the cluster's certificates, as data: subjects, validity
 * windows, extensions and the openssl configuration that writes them. Pure;
 * `pki.ts` runs openssl on it. The fields are swarmkit's (cfssl defaults):
 *
 *   root CA    CN=swarm-ca; ECDSA P-256, ecdsa-with-SHA256; 20 years
 *              (630720000s) from 5 minutes ago; basicConstraints critical
 *              CA:TRUE; keyUsage critical keyCertSign, cRLSign; SKI.
 *   node cert  O=<cluster id>, OU=swarm-manager|swarm-worker, CN=<node id>;
 *              from 1 hour ago (the backdate) to now + 90 days; keyUsage
 *              critical digitalSignature, keyEncipherment; extendedKeyUsage
 *              serverAuth, clientAuth; CA:FALSE; SKI, AKI;
 *              SANs DNS:<role>, DNS:<node id> (+ DNS:swarm-ca for managers),
 *              then berth's extra DNS names and IP addresses.
 *   serials    20 random bytes, top bit cleared (positive), as cfssl.
 */
import { isIP } from 'node:net';
import { InvalidParameter } from '../../errdefs/index.js';

export const ROOT_CN = 'swarm-ca';
export const MANAGER_OU = 'swarm-manager';
export const WORKER_OU = 'swarm-worker';
/** Managers also answer as the CA (swarmkit's CARole), so joining nodes can ask them for certificates. */
export const CA_SAN = 'swarm-ca';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** RootCAExpiration = "630720000s" */
export const ROOT_CA_VALIDITY_MS = 630_720_000_000;
/** cfssl's default backdate for the root (no Backdate in the CA policy). */
export const ROOT_CA_BACKDATE_MS = 5 * MINUTE;
/** DefaultNodeCertExpiration = 2160h */
export const DEFAULT_NODE_CERT_VALIDITY_MS = 2160 * HOUR;
/** MinNodeCertExpiration: a shorter `--cert-expiry` falls back to the default. */
export const MIN_NODE_CERT_VALIDITY_MS = HOUR;
/** CertBackdate, against clock drift between nodes. */
export const NODE_CERT_BACKDATE_MS = HOUR;

export type NodeRole = 'manager' | 'worker';

export function ouOfRole(role: NodeRole): string {
  return role === 'manager' ? MANAGER_OU : WORKER_OU;
}

export function roleOfOu(ou: string | undefined): NodeRole | undefined {
  return ou === MANAGER_OU ? 'manager' : ou === WORKER_OU ? 'worker' : undefined;
}

export interface NodeCertRequest {
  /** The certificate's CN: a swarm id. */
  nodeId: string;
  role: NodeRole;
  /** The certificate's O. */
  clusterId: string;
  /** berth's addition: the node's advertise address(es), so etcd clients dialing an IP can verify it. */
  ipAddresses?: readonly string[];
  /** berth's addition: more DNS names, such as the node's hostname. */
  dnsNames?: readonly string[];
  /** Validity; under an hour means the default 90 days, as swarmkit. */
  validityMs?: number;
}

export interface CertProfile {
  /** For `openssl ca -subj`, fields in Go's order (O, OU, CN). */
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** The extension section, `[ ext ]` of the config. */
  extensions: string[];
}

/** Node ids, cluster ids and DNS names go into a DN and a config file: letters, digits, `.`, `-`, `_` only. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

function checkName(what: string, value: string): void {
  if (!NAME_PATTERN.test(value)) throw new InvalidParameter('swarm.invalid_node_identity', `invalid ${what}: ${JSON.stringify(value)}`);
}

/** Go's time truncated to what an X.509 time holds, and cfssl's Round(time.Minute). */
function roundToMinute(t: Date): Date {
  return new Date(Math.round(t.getTime() / MINUTE) * MINUTE);
}

export function rootCaProfile(now: Date): CertProfile {
  const notBefore = new Date(roundToMinute(now).getTime() - ROOT_CA_BACKDATE_MS);
  return {
    subject: `/CN=${ROOT_CN}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + ROOT_CA_VALIDITY_MS),
    extensions: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash'],
  };
}

/** The SANs swarmkit puts in a node certificate (PrepareCSR's hosts), then berth's extras. */
export function nodeSubjectAltNames(req: NodeCertRequest): string[] {
  const dns = [ouOfRole(req.role), req.nodeId];
  if (req.role === 'manager') dns.push(CA_SAN);
  for (const d of req.dnsNames ?? []) if (!dns.includes(d)) dns.push(d);
  return [...dns.map((d) => `DNS:${d}`), ...(req.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
}

export function nodeCertProfile(req: NodeCertRequest, now: Date): CertProfile {
  checkName('node ID', req.nodeId);
  checkName('cluster ID', req.clusterId);
  for (const d of req.dnsNames ?? []) checkName('DNS name', d);
  for (const ip of req.ipAddresses ?? []) {
    if (!isIP(ip)) throw new InvalidParameter('swarm.invalid_node_identity', `invalid IP address: ${JSON.stringify(ip)}`);
  }
  if (req.role !== 'manager' && req.role !== 'worker') throw new InvalidParameter('swarm.invalid_node_identity', `invalid role: ${String(req.role)}`);
  let validity = req.validityMs ?? DEFAULT_NODE_CERT_VALIDITY_MS;
  if (!(validity >= MIN_NODE_CERT_VALIDITY_MS)) validity = DEFAULT_NODE_CERT_VALIDITY_MS;
  const notBefore = new Date(roundToMinute(now).getTime() - NODE_CERT_BACKDATE_MS);
  return {
    subject: `/O=${req.clusterId}/OU=${ouOfRole(req.role)}/CN=${req.nodeId}`,
    notBefore,
    // SigningPolicy adds the backdate to the expiry, so the end is now + validity
    notAfter: new Date(notBefore.getTime() + validity + NODE_CERT_BACKDATE_MS),
    extensions: [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage = serverAuth,clientAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      `subjectAltName = ${nodeSubjectAltNames(req).join(',')}`,
    ],
  };
}

/** `YYYYMMDDHHMMSSZ`, what `openssl ca -startdate/-enddate` take (it writes UTCTime before 2050). */
export function opensslTime(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:T]/g, '');
}

/** A cfssl-style serial as hex: 20 random bytes, top bit cleared. */
export function serialHex(random: Uint8Array): string {
  const b = Buffer.from(random.subarray(0, 20));
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

/** The `openssl ca` configuration: a throwaway database in the scratch dir, subjects taken as given. */
export function opensslCaConfig(profile: CertProfile): string {
  return [
    '[ ca ]',
    'default_ca = cluster_ca',
    '[ cluster_ca ]',
    'database = index.txt',
    'new_certs_dir = .',
    'serial = serial',
    'default_md = sha256',
    'policy = policy_any',
    'unique_subject = no',
    'email_in_dn = no',
    'copy_extensions = none',
    '[ policy_any ]',
    'organizationName = optional',
    'organizationalUnitName = optional',
    'commonName = supplied',
    '[ ext ]',
    ...profile.extensions,
    '',
  ].join('\n');
}
