/** berth-registry: an OCI distribution registry (`serve`), and its garbage collector (`gc`). */
import { Command, InvalidArgumentError } from 'commander';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { anonymous, HtpasswdAccess } from '../registry/auth.js';
import type { AclEntry } from '../registry/acl.js';
import { parseConfig, parseTokenAcl } from '../registry/config.js';
import { gc } from '../registry/gc.js';
import { publicKeyOf, TokenAccess } from '../registry/token.js';
import { Registry } from '../registry/registry.js';
import { createRegistryServer } from '../registry/server/app.js';
import type { StorageDriver } from '../registry/storage/driver.js';
import { FilesystemDriver } from '../registry/storage/filesystem.js';
import { S3Driver } from '../registry/storage/s3.js';

interface StorageFlags {
  root?: string; storage: string; s3Bucket?: string; s3Region: string; s3Endpoint?: string; s3PathStyle?: boolean; s3Root?: string;
}

/** The driver the flags name; s3 credentials come from the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or the SDK's chain. */
function storageDriver(o: StorageFlags): StorageDriver {
  if (o.storage === 's3') {
    if (!o.s3Bucket) throw new InvalidArgumentError('--storage s3 needs --s3-bucket');
    return new S3Driver({
      bucket: o.s3Bucket, region: o.s3Region, forcePathStyle: Boolean(o.s3PathStyle),
      ...(o.s3Endpoint ? { endpoint: o.s3Endpoint } : {}), ...(o.s3Root ? { rootDirectory: o.s3Root } : {}),
    });
  }
  if (o.storage !== 'filesystem') throw new InvalidArgumentError(`unknown storage driver ${o.storage} (filesystem or s3)`);
  if (!o.root) throw new InvalidArgumentError('the filesystem driver needs --root');
  return new FilesystemDriver(o.root);
}

interface ServeFlags extends StorageFlags {
  addr: string; deleteEnabled?: boolean; readOnly?: boolean; maxManifestBytes: number; quiet?: boolean; metricsAuth?: boolean;
  htpasswd?: string; tlsCert?: string; tlsKey?: string;
  tokenKey?: string; tokenPublicKey?: string; tokenRealm?: string; tokenService: string; tokenIssuer: string; tokenAcl?: string;
  /** auth.token.acl of the config file (--token-acl replaces it). */
  tokenAclEntries?: AclEntry[];
}

/**
 * Fills the options a flag did not set from a distribution-style config.yml
 * (`--config`): flags win over the file, the file over the defaults.
 */
async function applyConfigFile(o: ServeFlags & { config?: string }, cmd: Command): Promise<void> {
  if (!o.config) return;
  const f = parseConfig(await readFile(o.config, 'utf8'));
  const unset = (name: string) => cmd.getOptionValueSource(name) !== 'cli';
  const fill = <K extends keyof ServeFlags>(name: K, value: ServeFlags[K] | undefined) => {
    if (value !== undefined && unset(name)) o[name] = value;
  };
  fill('addr', f.addr);
  fill('root', f.root);
  fill('storage', f.storage);
  fill('s3Bucket', f.s3?.bucket);
  fill('s3Region', f.s3?.region);
  fill('s3Endpoint', f.s3?.endpoint);
  fill('s3PathStyle', f.s3?.pathStyle);
  fill('s3Root', f.s3?.rootDirectory);
  fill('deleteEnabled', f.deleteEnabled);
  fill('readOnly', f.readOnly);
  fill('tlsCert', f.tlsCert);
  fill('tlsKey', f.tlsKey);
  fill('htpasswd', f.htpasswd);
  fill('tokenRealm', f.token?.realm);
  fill('tokenService', f.token?.service);
  fill('tokenIssuer', f.token?.issuer);
  fill('tokenPublicKey', f.token?.rootCertBundle);
  o.tokenAclEntries = f.token?.acl;
  if (f.accessLog === false) fill('quiet', true);
  // the SDK reads credentials from the environment; the file's keys go there unless it already has some
  if (f.s3?.accessKey && f.s3.secretKey && !process.env.AWS_ACCESS_KEY_ID) {
    process.env.AWS_ACCESS_KEY_ID = f.s3.accessKey;
    process.env.AWS_SECRET_ACCESS_KEY = f.s3.secretKey;
  }
}

/** A public key from a PEM key or certificate (distribution's rootcertbundle is certificates). */
function publicKeyFrom(pem: Buffer) {
  return pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const program = new Command('berth-registry').description('An OCI distribution registry').version('0.1.0');

/** The storage flags `serve` and `gc` share. */
function storageOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'storage root (filesystem driver)')
    .option('--storage <driver>', 'filesystem or s3', 'filesystem')
    .option('--s3-bucket <name>', 's3: the bucket')
    .option('--s3-region <region>', 's3: the region', 'us-east-1')
    .option('--s3-endpoint <url>', 's3: an S3-compatible service (Ceph, MinIO) instead of AWS')
    .option('--s3-path-style', 's3: path-style URLs (endpoint/bucket/key)')
    .option('--s3-root <prefix>', 's3: key prefix inside the bucket');
}

storageOptions(program.command('serve'))
  .description('serve the registry API')
  .option('--config <file>', "a config.yml in CNCF distribution's format (flags override it)")
  .option('--addr <host:port>', 'address to listen on', '127.0.0.1:5000')
  .option('--delete-enabled', 'allow DELETE of manifests and blobs')
  .option('--read-only', 'refuse every write')
  .option('--max-manifest-bytes <n>', 'largest manifest accepted', positive, 4 << 20)
  .option('--quiet', 'no access log')
  .option('--metrics-auth', 'GET /metrics needs the credentials the API needs (Basic, or a token for registry:catalog:*)')
  .option('--htpasswd <file>', 'require HTTP Basic credentials from this htpasswd file (bcrypt: htpasswd -B)')
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
  .option('--tls-key <file>', 'the key of --tls-cert (PEM)')
  .option('--token-key <file>', 'token auth with the built-in endpoint: sign tokens with this EC or RSA private key (PEM); users from --htpasswd')
  .option('--token-public-key <file>', 'token auth with an external token server: verify its tokens with this public key (PEM)')
  .option('--token-realm <url>', 'where clients get tokens (default: this server\'s /auth/token)')
  .option('--token-service <name>', 'the service tokens are issued for (their audience)', 'berth-registry')
  .option('--token-issuer <name>', 'the issuer tokens must name', 'berth-registry')
  .option('--token-acl <file>', "with --token-key: a YAML list of {account, name, actions, type?} grants beyond each user's own <user>/* repositories")
  .action(async (o: ServeFlags & { config?: string }, cmd: Command) => {
    await applyConfigFile(o, cmd);
    if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
    const basic = o.htpasswd ? await HtpasswdAccess.load(o.htpasswd) : undefined;
    let token: TokenAccess | undefined;
    if (o.tokenKey || o.tokenPublicKey) {
      const privateKey = o.tokenKey ? createPrivateKey(await readFile(o.tokenKey)) : undefined;
      const publicKey = privateKey ? publicKeyOf(privateKey) : publicKeyFrom(await readFile(o.tokenPublicKey!));
      const scheme = o.tlsCert ? 'https' : 'http';
      const realm = o.tokenRealm ?? `${scheme}://${o.addr}/auth/token`;
      const acl = o.tokenAcl ? parseTokenAcl(await readFile(o.tokenAcl, 'utf8')) : o.tokenAclEntries ?? [];
      token = new TokenAccess({ realm, service: o.tokenService, issuer: o.tokenIssuer, publicKey, ttlSeconds: 300, acl, ...(privateKey ? { privateKey } : {}) });
    }
    const reg = new Registry(storageDriver(o), { deleteEnabled: Boolean(o.deleteEnabled), maxManifestBytes: o.maxManifestBytes });
    const server = createRegistryServer(reg, {
      readOnly: Boolean(o.readOnly),
      metricsAuth: Boolean(o.metricsAuth),
      access: token ?? basic ?? anonymous,
      ...(token && o.tokenKey ? { tokenEndpoint: { path: '/auth/token', issuer: token, ...(basic ? { basic } : {}) } } : {}),
      ...(o.tlsCert && o.tlsKey ? { tls: { cert: await readFile(o.tlsCert), key: await readFile(o.tlsKey) } } : {}),
      log: o.quiet ? () => {} : (f) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...f })}\n`),
    });
    const i = o.addr.lastIndexOf(':');
    const host = o.addr.slice(0, i) || '0.0.0.0';
    const port = Number(o.addr.slice(i + 1));
    server.keepAliveTimeout = 60_000;
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => process.stderr.write(`berth-registry listening on ${o.addr}\n`));
    const stop = () => server.close(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

storageOptions(program.command('gc'))
  .description('delete blobs no manifest references')
  .option('--dry-run', 'only list what would be deleted')
  .option('--grace <seconds>', 'keep blobs written less than this long ago (uploads of a push in progress)', (v: string) => Number(v), 3600)
  .action(async (o: StorageFlags & { dryRun?: boolean; grace: number }) => {
    if (!Number.isFinite(o.grace) || o.grace < 0) throw new InvalidArgumentError('--grace must be a number of seconds');
    const report = await gc(storageDriver(o), { dryRun: Boolean(o.dryRun), graceMs: o.grace * 1000 });
    for (const d of report.deleted) process.stdout.write(`${o.dryRun ? 'would delete' : 'deleted'} blob ${d}\n`);
    process.stdout.write(`${report.deleted.length} blobs ${o.dryRun ? 'eligible for deletion' : 'deleted'}, ${report.kept} kept\n`);
  });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`berth-registry: ${err.message}\n`);
  process.exit(1);
});
