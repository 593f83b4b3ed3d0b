/**
 * Which daemon the CLI talks to, and how — docker/cli's rules
 * (cli/command/cli.go, cli/flags/options.go, cli/context/docker/load.go):
 *
 * context: `--context` > (`-H` or $BERTH_HOST/$DOCKER_HOST: the default context)
 *          > $BERTH_CONTEXT/$DOCKER_CONTEXT > config.json's currentContext > default.
 *          `--context` with `-H` is an error.
 * default context: the host from `-H`, $BERTH_HOST, $DOCKER_HOST, else the
 *          default socket (tcp://localhost:2376 when TLS is on); TLS from
 *          --tls/--tlsverify/--tlscacert/--tlscert/--tlskey, $DOCKER_TLS,
 *          $DOCKER_TLS_VERIFY and $DOCKER_CERT_PATH (default: the config dir).
 * stored context: its Host, and its TLS files (none and SkipTLSVerify false: plain).
 * TLS never applies to unix sockets or ssh hosts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';
import { DEFAULT_HOST, DEFAULT_TLS_HOST, parseHost } from '../../client/host.js';
import type { ClientTls } from '../../client/transport.js';
import { DEFAULT_CONTEXT, type ContextStore, type TlsMaterial } from './context-store.js';

export interface ClientFlags {
  host?: string;
  context?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  /** Flags given on the command line (commander's value source 'cli'). */
  given?: ReadonlySet<string>;
}

export interface Endpoint {
  context: string;
  host: string;
  /** For tcp:// hosts: HTTPS with these settings. */
  tls?: ClientTls;
}

export const DEFAULT_DESCRIPTION = 'Current DOCKER_HOST based configuration';

export function envHost(env: NodeJS.ProcessEnv): string | undefined {
  return env.BERTH_HOST || env.DOCKER_HOST || undefined;
}

export function currentContextName(flags: ClientFlags, env: NodeJS.ProcessEnv, configured: string): string {
  if (flags.context && flags.host) throw new InvalidParameter('context.conflict', 'conflicting options: cannot specify both --host and --context');
  if (flags.context) return flags.context;
  if (flags.host || envHost(env)) return DEFAULT_CONTEXT;
  return env.BERTH_CONTEXT || env.DOCKER_CONTEXT || configured || DEFAULT_CONTEXT;
}

async function readIf(path: string | undefined): Promise<Buffer | undefined> {
  return path ? readFile(path) : undefined;
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(() => true, () => false);
}

/** The default context's endpoint: flags and environment. */
export async function defaultEndpoint(flags: ClientFlags, env: NodeJS.ProcessEnv, configDir: string): Promise<{ host: string; skipVerify: boolean; material?: TlsMaterial }> {
  const given = flags.given ?? new Set<string>();
  const verify = flags.tlsverify ?? !!env.DOCKER_TLS_VERIFY;
  const tls = given.has('tlsverify') || verify || flags.tls === true || (flags.tls === undefined && !!env.DOCKER_TLS);
  const host = flags.host || envHost(env) || (tls ? DEFAULT_TLS_HOST : DEFAULT_HOST);
  if (!tls) return { host, skipVerify: false };
  const certPath = env.DOCKER_CERT_PATH || configDir;
  const ca = flags.tlscacert ?? join(certPath, 'ca.pem');
  // a default client certificate that is not there is simply not sent (docker's rule); a named one must exist
  const cert = flags.tlscert ?? ((await exists(join(certPath, 'cert.pem'))) ? join(certPath, 'cert.pem') : undefined);
  const key = flags.tlskey ?? ((await exists(join(certPath, 'key.pem'))) ? join(certPath, 'key.pem') : undefined);
  const material: TlsMaterial = {};
  try {
    const [caPem, certPem, keyPem] = await Promise.all([readIf(ca), readIf(cert), readIf(key)]);
    if (caPem) material.ca = caPem;
    if (certPem) material.cert = certPem;
    if (keyPem) material.key = keyPem;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new InvalidParameter('context.tls_files', `open ${e.path ?? ''}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  }
  return { host, skipVerify: !verify, material };
}

function clientTls(host: string, skipVerify: boolean, material: TlsMaterial | undefined): ClientTls | undefined {
  if (!material && !skipVerify) return undefined;
  if (parseHost(host).kind !== 'tcp') return undefined;
  if ((material?.cert && !material.key) || (!material?.cert && material?.key)) {
    throw new InvalidParameter('context.tls_files', 'both a client certificate and its key are needed for TLS client authentication');
  }
  return { ...(material ?? {}), skipVerify };
}

/** The endpoint of the current context (or an error that says why there is none). */
export async function resolveEndpoint(flags: ClientFlags, env: NodeJS.ProcessEnv, configDir: string, configured: string, store: ContextStore): Promise<Endpoint> {
  const context = currentContextName(flags, env, configured);
  if (context === DEFAULT_CONTEXT) {
    const d = await defaultEndpoint(flags, env, configDir);
    const tls = clientTls(d.host, d.skipVerify, d.material);
    return { context, host: d.host, ...(tls ? { tls } : {}) };
  }
  const meta = await store.get(context);
  const ep = meta.Endpoints.docker;
  if (!ep) throw new InvalidParameter('context.no_endpoint', 'cannot find docker endpoint in context');
  const host = ep.Host || DEFAULT_HOST;
  const tls = clientTls(host, !!ep.SkipTLSVerify, await store.tlsMaterial(context));
  return { context, host, ...(tls ? { tls } : {}) };
}
