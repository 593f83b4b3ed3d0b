/**
 * Daemon addresses as the docker CLI reads them (docker/cli opts/hosts.go,
 * cli/connhelper/ssh): `unix:///path`, `tcp://host:port`, `ssh://[user@]host[:port][/socket]`.
 * Which address to use (flags, environment, contexts) is decided in cli/config/endpoint.ts.
 */
import { InvalidParameter } from '../errdefs/index.js';

export const DEFAULT_HOST = 'unix:///run/berth.sock';
/** docker's default when TLS is on and no host is given. */
export const DEFAULT_TLS_HOST = 'tcp://localhost:2376';
const DEFAULT_TCP_PORT = 2375;

export type DaemonAddress =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number }
  /** Reached by running `ssh ... berth system dial-stdio` on the remote host. */
  | { kind: 'ssh'; host: string; user?: string; port?: number; socketPath?: string };

/** `-H` > BERTH_HOST > DOCKER_HOST > the default socket (contexts aside: see cli/config/endpoint.ts). */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

function invalid(host: string, why: string): InvalidParameter {
  return new InvalidParameter('client.invalid_host', `invalid host "${host}": ${why}`);
}

function parseSsh(host: string): DaemonAddress {
  let u: URL;
  try {
    u = new URL(host);
  } catch {
    throw invalid(host, 'invalid SSH URL');
  }
  if (u.password) throw invalid(host, 'invalid SSH URL: plain-text password is not supported');
  if (u.search) throw invalid(host, `invalid SSH URL: query parameters are not allowed: "${u.search.slice(1)}"`);
  if (u.hash) throw invalid(host, `invalid SSH URL: fragments are not allowed: "${u.hash.slice(1)}"`);
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  if (!hostname) throw invalid(host, 'invalid SSH URL: hostname is empty');
  if (hostname.startsWith('-')) throw invalid(host, 'invalid SSH URL: invalid host');
  const user = decodeURIComponent(u.username);
  if (user && !/^[A-Za-z0-9._][A-Za-z0-9._@-]*$/.test(user)) throw invalid(host, 'invalid SSH URL: invalid user');
  const path = decodeURIComponent(u.pathname);
  return {
    kind: 'ssh',
    host: hostname,
    ...(user ? { user } : {}),
    ...(u.port ? { port: Number(u.port) } : {}),
    ...(path.replace(/\//g, '') ? { socketPath: path } : {}),
  };
}

export function parseHost(host: string): DaemonAddress {
  const h = host.trim();
  if (h.startsWith('unix://')) {
    const socketPath = h.slice('unix://'.length);
    if (!socketPath) throw invalid(host, 'empty socket path');
    return { kind: 'unix', socketPath };
  }
  if (h.startsWith('ssh://')) return parseSsh(h);
  if (h.startsWith('/')) return { kind: 'unix', socketPath: h };
  const cut = h.indexOf('://');
  if (cut !== -1 && h.slice(0, cut) !== 'tcp') throw invalid(host, 'use unix:///path, tcp://host:port or ssh://[user@]host');
  const rest = cut === -1 ? h : h.slice(cut + 3);
  let u: URL;
  try {
    u = new URL(`http://${rest || 'localhost'}`);
  } catch {
    throw invalid(host, 'not host:port');
  }
  const port = u.port ? Number(u.port) : DEFAULT_TCP_PORT;
  return { kind: 'tcp', host: u.hostname.replace(/^\[|\]$/g, '') || 'localhost', port };
}

/** The address written back as a URL (what `context ls` and errors show). */
export function formatAddress(a: DaemonAddress): string {
  switch (a.kind) {
    case 'unix':
      return `unix://${a.socketPath}`;
    case 'tcp':
      return `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
    case 'ssh':
      return `ssh://${a.user ? `${a.user}@` : ''}${a.host}${a.port ? `:${a.port}` : ''}${a.socketPath ?? ''}`;
  }
}

/** POSIX shell quoting: ssh runs the remote command through the user's shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The ssh arguments that reach the daemon on an ssh:// host, as docker's
 * connhelper builds them (ConnectTimeout, no pty, `--` before the host), with
 * berth's own `system dial-stdio` as the remote command.
 */
export function sshArguments(a: Extract<DaemonAddress, { kind: 'ssh' }>, program = 'berth'): string[] {
  const remote = [program, ...(a.socketPath ? [`--host=unix://${a.socketPath}`] : []), 'system', 'dial-stdio'];
  return [
    '-o', 'ConnectTimeout=30',
    '-T',
    ...(a.user ? ['-l', a.user] : []),
    ...(a.port ? ['-p', String(a.port)] : []),
    '--', a.host,
    remote.map(shellQuote).join(' '),
  ];
}
