/**
 * Turns the daemon's settings into what the API server needs to listen:
 * the plan (plan.ts) with its PEM files read and checked, the socket group
 * resolved, the limits in milliseconds. Runs once at start-up, before
 * anything else, so a bad certificate or an insecure `-H tcp://` stops
 * berthd before it touches a container.
 */
import { readFile } from 'node:fs/promises';
import { InvalidParameter } from '../../../errdefs/index.js';
import type { Logger } from '../../../lib/logger.js';
import type { TransportSettings } from './settings.js';
import { DEFAULT_LIMITS, type ApiLimits } from './limits.js';
import { planTransport, type ListenerSpec, type TlsPlan } from './plan.js';
import { resolveSocketGroup, type SocketGroup } from './socket-group.js';

export interface ServerTls {
  key: Buffer;
  cert: Buffer;
  /** The only CA trusted for client certificates (set when `verify`). */
  ca?: Buffer;
  verify: boolean;
}

export interface PreparedTransport {
  listeners: ListenerSpec[];
  tls?: ServerTls;
  socketGroup: SocketGroup;
  limits: ApiLimits;
  insecure: ListenerSpec[];
  warnings: string[];
}

export function limitsFrom(cfg: Pick<TransportSettings, 'apiMaxHeaderSize' | 'apiMaxJsonBody' | 'apiHeadersTimeout' | 'apiBodyTimeout' | 'apiMaxConnections' | 'maxUploadSize'>): ApiLimits {
  return {
    ...DEFAULT_LIMITS,
    maxHeaderSize: cfg.apiMaxHeaderSize,
    maxJsonBody: cfg.apiMaxJsonBody,
    jsonBudget: Math.max(DEFAULT_LIMITS.jsonBudget, cfg.apiMaxJsonBody * 4),
    headersTimeoutMs: cfg.apiHeadersTimeout * 1000,
    bodyTimeoutMs: cfg.apiBodyTimeout * 1000,
    maxConnections: cfg.apiMaxConnections,
    maxUpload: cfg.maxUploadSize,
  };
}

async function readPem(what: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new InvalidParameter('daemon.tls_config', `invalid TLS configuration: could not read the ${what} ${path}: ${(err as Error).message}`);
  }
}

export async function loadServerTls(plan: TlsPlan): Promise<ServerTls> {
  const tls: ServerTls = {
    cert: await readPem('certificate (--tlscert)', plan.certFile),
    key: await readPem('key (--tlskey)', plan.keyFile),
    verify: plan.verify,
    ...(plan.verify ? { ca: await readPem('CA certificate (--tlscacert)', plan.caFile) } : {}),
  };
  try {
    // tls loads only when TLS is configured: idle memory otherwise (issue 18)
    process.getBuiltinModule('node:tls').createSecureContext({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}) });
  } catch (err) {
    throw new InvalidParameter('daemon.tls_config', `invalid TLS configuration: ${plan.certFile}, ${plan.keyFile}: ${(err as Error).message}`);
  }
  return tls;
}

export async function prepareTransport(cfg: TransportSettings, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<PreparedTransport> {
  const plan = planTransport(cfg, env);
  const needsTls = plan.tls && plan.listeners.some((l) => l.kind === 'tcp');
  const tls = needsTls ? await loadServerTls(plan.tls!) : undefined;
  const socketGroup = plan.listeners.some((l) => l.kind === 'unix') ? await resolveSocketGroup(cfg.group, log) : { gid: 0, name: 'root' };
  return {
    listeners: plan.listeners,
    ...(tls ? { tls } : {}),
    socketGroup,
    limits: limitsFrom(cfg),
    insecure: plan.insecure,
    warnings: plan.warnings,
  };
}
