/** Where the daemon is: `-H` > BERTH_HOST > DOCKER_HOST > the default socket. */
import { InvalidParameter } from '../errdefs/index.js';

export const DEFAULT_HOST = 'unix:///run/berth.sock';

export type DaemonAddress =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number };

export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

export function parseHost(host: string): DaemonAddress {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath) throw new InvalidParameter('client.invalid_host', `invalid host "${host}"`);
    return { kind: 'unix', socketPath };
  }
  if (host.startsWith('tcp://')) {
    const u = new URL(host.replace(/^tcp:/, 'http:'));
    return { kind: 'tcp', host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 2375) };
  }
  if (host.startsWith('/')) return { kind: 'unix', socketPath: host };
  throw new InvalidParameter('client.invalid_host', `invalid host "${host}": use unix:///path or tcp://host:port`);
}
