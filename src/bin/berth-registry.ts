/**
 * berth-registry: an OCI distribution registry (`serve`), and its garbage
 * collector (`gc`). Only the entry: argv and the environment become
 * settings, src/registry/compose.ts builds the registry from them, and
 * signals stop it.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFile } from 'node:fs/promises';
import { buildServer, listen, storageDriver } from '../registry/compose.js';
import { parseConfig } from '../registry/config.js';
import { gc } from '../registry/gc.js';
import { withFileSettings, type ServeSettings, type StorageSettings } from '../registry/settings.js';

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
  .action(async (flags: ServeSettings & { config?: string }, cmd: Command) => {
    const o = flags.config
      ? withFileSettings(flags, parseConfig(await readFile(flags.config, 'utf8')), (name) => cmd.getOptionValueSource(name) === 'cli', process.env)
      : flags;
    const log = o.quiet ? () => {} : (f: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...f })}\n`);
    const server = await buildServer(o, log);
    const stop = () => server.close(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await listen(server, o.addr);
    process.stderr.write(`berth-registry listening on ${o.addr}\n`);
  });

storageOptions(program.command('gc'))
  .description('delete blobs no manifest references')
  .option('--dry-run', 'only list what would be deleted')
  .option('--grace <seconds>', 'keep blobs written less than this long ago (uploads of a push in progress)', (v: string) => Number(v), 3600)
  .action(async (o: StorageSettings & { dryRun?: boolean; grace: number }) => {
    if (!Number.isFinite(o.grace) || o.grace < 0) throw new InvalidArgumentError('--grace must be a number of seconds');
    const report = await gc(storageDriver(o), { dryRun: Boolean(o.dryRun), graceMs: o.grace * 1000 });
    for (const d of report.deleted) process.stdout.write(`${o.dryRun ? 'would delete' : 'deleted'} blob ${d}\n`);
    process.stdout.write(`${report.deleted.length} blobs ${o.dryRun ? 'eligible for deletion' : 'deleted'}, ${report.kept} kept\n`);
  });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`berth-registry: ${err.message}\n`);
  process.exit(1);
});
