/**
 * The openssl steps that make a test PKI for the Engine API over TLS, as
 * data: a CA (unless one is given), a server certificate for the daemon's
 * names and addresses, a client certificate. Docker's own recipe ("Protect
 * the Docker daemon socket") with EC P-256 keys instead of RSA 4096 (as
 * strong, and made in milliseconds) and file names it uses:
 *
 *   ca.pem ca-key.pem             the CA (ca-key.pem stays with whoever signs)
 *   server-cert.pem server-key.pem   berthd --tlsverify --tlscacert ca.pem --tlscert server-cert.pem --tlskey server-key.pem
 *   cert.pem key.pem               the client: DOCKER_CERT_PATH=DIR, or --tlscacert/--tlscert/--tlskey
 */
import { isIP } from 'node:net';

export interface CertRequest {
  /** Where the server and client files go. */
  dir: string;
  /** Where the CA is: used when ca.pem and ca-key.pem exist there, made there otherwise. */
  caDir: string;
  makeCa: boolean;
  /** DNS names and IP addresses the server certificate is valid for. */
  hosts: string[];
  days: number;
  clientName: string;
  /** A random serial per certificate, as hex. */
  serials: { ca: string; server: string; client: string };
}

export interface OpensslStep {
  args: string[];
}

export interface CertPlan {
  /** The openssl configuration (extensions) the steps refer to as `CONFIG`. */
  config: string;
  steps: OpensslStep[];
  /** Files to chmod: private keys 0600, certificates 0644. */
  keys: string[];
  certs: string[];
  /** Files that must not exist yet (unless --force). */
  outputs: string[];
  /** [from, to]: the CA certificate copied next to the others when the CA lives elsewhere. */
  copies: [string, string][];
}

export function subjectAltNames(hosts: string[]): string[] {
  let ip = 0;
  let dns = 0;
  return hosts.map((h) => (isIP(h) ? `IP.${++ip} = ${h}` : `DNS.${++dns} = ${h}`));
}

export function opensslConfig(hosts: string[]): string {
  return [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    'CN = berth',
    '[ca_ext]',
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
    '[server_ext]',
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    'subjectAltName = @alt_names',
    '[client_ext]',
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = clientAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '[alt_names]',
    ...subjectAltNames(hosts),
    '',
  ].join('\n');
}

/** `CONFIG` and `TMP/` in arguments stand for the config file and a scratch directory. */
export function planCerts(r: CertRequest): CertPlan {
  const ca = `${r.caDir}/ca.pem`;
  const caKey = `${r.caDir}/ca-key.pem`;
  const out = (name: string) => `${r.dir}/${name}`;
  const genkey = (path: string): OpensslStep => ({ args: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path] });
  const days = String(r.days);
  const steps: OpensslStep[] = [];
  if (r.makeCa) {
    steps.push(genkey(caKey), {
      args: ['req', '-config', 'CONFIG', '-new', '-x509', '-key', caKey, '-sha256', '-days', days, '-subj', '/CN=berth CA',
        '-extensions', 'ca_ext', '-set_serial', `0x${r.serials.ca}`, '-out', ca],
    });
  }
  const signed = (name: string, key: string, cert: string, subject: string, ext: string, serial: string): OpensslStep[] => [
    genkey(key),
    { args: ['req', '-config', 'CONFIG', '-new', '-key', key, '-subj', subject, '-out', `TMP/${name}.csr`] },
    { args: ['x509', '-req', '-in', `TMP/${name}.csr`, '-CA', ca, '-CAkey', caKey, '-set_serial', `0x${serial}`, '-days', days, '-sha256',
      '-extfile', 'CONFIG', '-extensions', ext, '-out', cert] },
  ];
  steps.push(
    ...signed('server', out('server-key.pem'), out('server-cert.pem'), `/CN=${r.hosts[0] ?? 'localhost'}`, 'server_ext', r.serials.server),
    ...signed('client', out('key.pem'), out('cert.pem'), `/CN=${r.clientName}`, 'client_ext', r.serials.client),
  );
  const copies: [string, string][] = r.caDir === r.dir ? [] : [[ca, out('ca.pem')]];
  const keys = [...(r.makeCa ? [caKey] : []), out('server-key.pem'), out('key.pem')];
  const certs = [...(r.makeCa ? [ca] : []), ...copies.map(([, to]) => to), out('server-cert.pem'), out('cert.pem')];
  return { config: opensslConfig(r.hosts), steps, keys, certs, outputs: [...keys, ...certs], copies };
}
