/**
 * `--docker host=...,ca=...,cert=...,key=...,skip-tls-verify=...,from=...`
 * as `context create` and `context update` read it (docker/cli
 * cli/command/context/options.go), and copying an existing context.
 */
import { readFile } from 'node:fs/promises';
import { parseHost } from '../../../client/host.js';
import { InvalidParameter } from '../../../errdefs/index.js';
import type { CliContext } from '../../context.js';
import { DEFAULT_CONTEXT, type ContextMeta, type DockerEndpointMeta, type TlsMaterial } from '../../config/context-store.js';
import { DEFAULT_DESCRIPTION, defaultEndpoint } from '../../config/endpoint.js';

const KEYS = ['from', 'host', 'ca', 'cert', 'key', 'skip-tls-verify'];

/** Repeated `--docker` values, each `k=v[,k=v...]`, merged. */
export function collectEndpointOptions(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const out = { ...previous };
  for (const pair of value.split(',')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    if (eq === -1) throw new InvalidParameter('context.invalid_option', `${pair} must be formatted as key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function parseGoBool(name: string, v: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new InvalidParameter('context.invalid_option', `${name}: parsing "${v}": invalid syntax`);
}

async function readPem(path: string | undefined): Promise<Buffer | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new InvalidParameter('context.tls_files', `open ${path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  }
}

export interface EndpointChoice {
  endpoint: DockerEndpointMeta;
  tls: TlsMaterial | undefined;
}

/** A stored context, or the default one as the flags and environment make it. */
export async function loadContext(ctx: CliContext, name: string): Promise<{ meta: ContextMeta; tls: TlsMaterial | undefined }> {
  if (name === DEFAULT_CONTEXT) {
    const d = await defaultEndpoint(ctx.globals(), ctx.env, ctx.configDir());
    return {
      meta: { Name: DEFAULT_CONTEXT, Metadata: { Description: DEFAULT_DESCRIPTION }, Endpoints: { docker: { Host: d.host, SkipTLSVerify: d.skipVerify } } },
      tls: d.material && Object.keys(d.material).length ? d.material : undefined,
    };
  }
  const store = ctx.contextStore();
  return { meta: await store.get(name), tls: await store.tlsMaterial(name) };
}

/** The endpoint that `--docker` describes. */
export async function endpointFromOptions(ctx: CliContext, o: Record<string, string>): Promise<EndpointChoice> {
  const unknown = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (unknown.length) throw new InvalidParameter('context.invalid_option', unknown.map((k) => `unrecognized config key: ${k}`).join('\n'));
  if (o.from !== undefined) {
    const { meta } = await loadContext(ctx, o.from);
    const ep = meta.Endpoints.docker;
    if (!ep) throw new InvalidParameter('context.no_endpoint', `unable to get endpoint from context "${o.from}"`);
    return { endpoint: ep, tls: undefined }; // docker copies the endpoint, not its TLS files
  }
  const [ca, cert, key] = [await readPem(o.ca), await readPem(o.cert), await readPem(o.key)];
  const skip = o['skip-tls-verify'] !== undefined ? parseGoBool('skip-tls-verify', o['skip-tls-verify']) : false;
  const host = o.host ?? '';
  if (host.startsWith('ssh://')) {
    try {
      parseHost(host);
    } catch (err) {
      throw new InvalidParameter('context.invalid_option', `invalid docker endpoint options: ${(err as Error).message}`);
    }
  }
  const tls: TlsMaterial = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  return { endpoint: { ...(host ? { Host: host } : {}), SkipTLSVerify: skip }, tls: Object.keys(tls).length ? tls : undefined };
}
