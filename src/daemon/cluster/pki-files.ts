/**
 * The node's PKI files, named as Docker names them:
 *
 *   <dir>/                     0700  e.g. /var/lib/berth/swarm/certificates
 *     swarm-root-ca.crt        0644  the root CA bundle, the exact bytes the join token's digest covers
 *     swarm-root-ca.key        0600  the CA key, only where this node signs (Docker keeps it in raft only)
 *     swarm-node.crt           0644  this node's certificate
 *     swarm-node.key           0600  its ECDSA P-256 key, PKCS#8 PEM
 *
 * Each file is replaced atomically (temp file, fsync, rename). A renewal
 * replaces two files, so a crash between them can leave a new key beside the
 * old certificate: loadNodeCredentials refuses such a pair, and the node
 * asks for a new certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { rootCAFromPem, type RootCA } from './ca.js';
import type { NodeCredentials } from './node-cert.js';

export const ROOT_CA_CERT_FILE = 'swarm-root-ca.crt';
export const ROOT_CA_KEY_FILE = 'swarm-root-ca.key';
export const NODE_CERT_FILE = 'swarm-node.crt';
export const NODE_KEY_FILE = 'swarm-node.key';

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes the root CA; its key only if `withKey` and the CA has one. */
export async function saveRootCA(dir: string, ca: RootCA, opts: { withKey?: boolean } = {}): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (opts.withKey && ca.keyPem) await writeFileAtomic(join(dir, ROOT_CA_KEY_FILE), ca.keyPem, 0o600);
  await writeFileAtomic(join(dir, ROOT_CA_CERT_FILE), ca.certPem, 0o644);
}

/** The root CA in `dir` (with its key if stored), or undefined if there is none. */
export async function loadRootCA(dir: string): Promise<RootCA | undefined> {
  const certPem = await readIfThere(join(dir, ROOT_CA_CERT_FILE));
  if (certPem === undefined) return undefined;
  return rootCAFromPem(certPem, await readIfThere(join(dir, ROOT_CA_KEY_FILE)));
}

/** Writes the node's key, then its certificate. */
export async function saveNodeCredentials(dir: string, creds: NodeCredentials): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, NODE_KEY_FILE), creds.keyPem, 0o600);
  await writeFileAtomic(join(dir, NODE_CERT_FILE), creds.certPem, 0o644);
}

/** The node's certificate and key, or undefined if there are none; refuses a pair that does not match. */
export async function loadNodeCredentials(dir: string): Promise<NodeCredentials | undefined> {
  const certPem = await readIfThere(join(dir, NODE_CERT_FILE));
  const keyPem = await readIfThere(join(dir, NODE_KEY_FILE));
  if (certPem === undefined || keyPem === undefined) return undefined;
  const cert = new X509Certificate(certPem);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new InvalidParameter('swarm.credentials_mismatch', `${join(dir, NODE_CERT_FILE)} does not match ${join(dir, NODE_KEY_FILE)}`);
  }
  return { certPem, keyPem };
}
