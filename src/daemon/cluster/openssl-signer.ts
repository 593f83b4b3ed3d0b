/**
 * The one place that runs openssl for the cluster PKI (Node's crypto makes
 * keys and checks certificates, but cannot write one). Each signing happens
 * in a fresh private scratch directory that is removed afterwards:
 *
 *   $TMPDIR/berth-pki-XXXXXX/   0700
 *     subject.key   0600  the key being certified (PKCS#8 PEM)
 *     signer.key    0600  the CA key (the same key when self-signing)
 *     signer.crt          the CA certificate (not when self-signing)
 *     openssl.cnf         from cert-profile.ts
 *     index.txt, serial   `openssl ca`'s throwaway database
 *     request.csr, cert.pem  (the request made by csr.ts, or by `openssl req` for a key it cannot sign with)
 *
 * Keys never appear on a command line, in a message or in a log: a failing
 * openssl is reported with its (redacted) stderr only.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SystemError } from '../../errdefs/index.js';
import { ExecError, run } from '../../lib/exec.js';
import { requestPem } from './csr.js';
import { opensslCaConfig, opensslTime, serialHex, type CertProfile } from './cert-profile.js';

export interface SignRequest {
  profile: CertProfile;
  /** The key the certificate is for. */
  subjectKeyPem: string;
  /** The issuing CA; absent to self-sign with `subjectKeyPem` (a new root). */
  issuer?: { certPem: string; keyPem: string };
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    if (err instanceof ExecError) throw new SystemError('swarm.openssl_failed', `cannot sign the certificate: ${err.message}`, { cause: err });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SystemError('swarm.openssl_failed', 'openssl not found: install the Debian package openssl');
    }
    throw err;
  }
}

/** Signs a certificate for `subjectKeyPem` as `profile` says; returns its PEM. */
export async function signCertificate(req: SignRequest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-pki-'));
  try {
    await chmod(dir, 0o700);
    const config = `[ req ]\ndistinguished_name = req_dn\n[ req_dn ]\n${opensslCaConfig(req.profile)}`;
    await writeFile(join(dir, 'openssl.cnf'), config);
    await writeFile(join(dir, 'subject.key'), req.subjectKeyPem, { mode: 0o600 });
    await writeFile(join(dir, 'signer.key'), req.issuer?.keyPem ?? req.subjectKeyPem, { mode: 0o600 });
    if (req.issuer) await writeFile(join(dir, 'signer.crt'), req.issuer.certPem);
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'serial'), `${serialHex(randomBytes(20))}\n`);
    // The CSR's subject is a placeholder: `ca -subj` sets the real one, as cfssl
    // trusts only the key of a request. Made here for our EC keys (one spawn less).
    const csr = requestPem(req.subjectKeyPem);
    if (csr) await writeFile(join(dir, 'request.csr'), csr);
    else await openssl(['req', '-new', '-config', 'openssl.cnf', '-key', 'subject.key', '-subj', '/CN=csr', '-out', 'request.csr'], dir);
    await openssl([
      'ca', '-batch', '-config', 'openssl.cnf', '-notext', '-preserveDN',
      ...(req.issuer ? ['-cert', 'signer.crt'] : ['-selfsign']),
      '-keyfile', 'signer.key', '-in', 'request.csr', '-out', 'cert.pem',
      '-subj', req.profile.subject, '-extensions', 'ext',
      '-startdate', opensslTime(req.profile.notBefore), '-enddate', opensslTime(req.profile.notAfter),
    ], dir);
    return await readFile(join(dir, 'cert.pem'), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
