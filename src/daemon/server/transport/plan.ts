/**
 * Where berthd listens and how, as data: the listeners parsed from `--host`,
 * the TLS settings for TCP, and the access rule for unauthenticated TCP.
 * Pure; `prepare.ts` loads the files and `../http-server.ts` applies it.
 *
 * dockerd's rules, mirrored (moby daemon/command/{options,daemon}.go):
 * - `--tlsverify` given at all (true or false) turns TLS on; `--tls` alone
 *   means `--tlsverify` unless `--tlsverify=false` is given; DOCKER_TLS_VERIFY
 *   in the environment means `--tlsverify`.
 * - Certificates default to ca.pem, cert.pem and key.pem in $DOCKER_CERT_PATH,
 *   else $DOCKER_CONFIG, else ~/.docker.
 * - `-H tcp://` defaults to localhost:2375; `-H host:port` means TCP.
 * - Unix sockets never use TLS.
 *
 * Unauthenticated TCP (no TLS, or TLS without client verification): current
 * dockerd still starts after loud warnings and a pause (one second; fifteen
 * for non-loopback addresses unless `--tls=false` was explicit), and its
 * deprecation notice announces that it will refuse to start unless the user
 * opts out explicitly. berth does what that notice announces: it refuses,
 * unless `--tls=false` or `--tlsverify=false` was given, and then it prints
 * dockerd's warnings and pauses one second before serving.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidParameter } from '../../../errdefs/index.js';
import type { TransportSettings } from './settings.js';

export type ListenerSpec =
  | { kind: 'unix'; host: string; path: string }
  | { kind: 'tcp'; host: string; address: string; port: number };

export interface TlsPlan {
  /** Require and verify a client certificate signed by `caFile` (mutual TLS). */
  verify: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface TransportPlan {
  listeners: ListenerSpec[];
  /** Set when TLS is on; applies to TCP listeners only. */
  tls?: TlsPlan;
  /** TCP listeners that accept clients without a verified certificate (explicitly allowed). */
  insecure: ListenerSpec[];
  warnings: string[];
}

const DEFAULT_SOCKET = '/run/berth.sock';
const DEFAULT_TCP_ADDRESS = 'localhost';
const DEFAULT_TCP_PORT = 2375;

function invalid(host: string, why: string): InvalidParameter {
  return new InvalidParameter('daemon.invalid_host', `invalid bind address (${host}): ${why}`);
}

/** One `--host` value as dockerd reads it (opts.ParseDaemonHost). */
export function parseDaemonHost(host: string): ListenerSpec {
  const trimmed = host.trim();
  const cut = trimmed.indexOf('://');
  const proto = cut === -1 ? 'tcp' : trimmed.slice(0, cut);
  const rest = cut === -1 ? trimmed : trimmed.slice(cut + 3);
  switch (proto) {
    case 'unix': {
      if (rest.includes('://')) throw invalid(host, `invalid unix address: ${rest}`);
      const path = rest || DEFAULT_SOCKET;
      if (!path.startsWith('/')) throw invalid(host, 'the socket path must be absolute');
      return { kind: 'unix', host: `unix://${path}`, path };
    }
    case 'tcp': {
      const { address, port } = splitHostPort(host, rest);
      const shown = address.includes(':') ? `[${address}]` : address;
      return { kind: 'tcp', host: `tcp://${shown}:${port}`, address, port };
    }
    case 'fd':
      throw invalid(host, 'socket activation (fd://) is not supported by berthd');
    default:
      throw invalid(host, `unsupported proto '${proto}'`);
  }
}

/** `addr:port`, `[v6]:port`, `:port`, `addr` or nothing; dockerd's defaults fill the gaps. */
function splitHostPort(host: string, rest: string): { address: string; port: number } {
  if (/[/?#@]/.test(rest)) throw invalid(host, 'should not contain a path element or user information');
  let address = rest;
  let portText = '';
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end === -1) throw invalid(host, 'missing ]');
    address = rest.slice(1, end);
    const after = rest.slice(end + 1);
    if (after && !after.startsWith(':')) throw invalid(host, 'not host:port');
    portText = after.slice(1);
  } else if (rest.includes(':')) {
    const colon = rest.lastIndexOf(':');
    address = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (address.includes(':')) throw invalid(host, 'IPv6 addresses must be in brackets');
  }
  const port = portText === '' ? DEFAULT_TCP_PORT : Number(portText);
  if (!/^\d*$/.test(portText) || !Number.isInteger(port) || port <= 0 || port > 65535) throw invalid(host, `invalid port: ${portText}`);
  return { address: address || DEFAULT_TCP_ADDRESS, port };
}

function certDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CERT_PATH || env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

type TlsSettings = Pick<TransportSettings, 'tls' | 'tlsVerify' | 'tlsCaCert' | 'tlsCert' | 'tlsKey'>;

/** The TLS plan, or undefined when TLS is off. */
export function planTls(cfg: TlsSettings, env: NodeJS.ProcessEnv = process.env): TlsPlan | undefined {
  const envVerify = !!env.DOCKER_TLS_VERIFY;
  const verifyGiven = cfg.tlsVerify !== undefined || envVerify;
  const on = verifyGiven || cfg.tls === true;
  if (!on) return undefined;
  const dir = certDir(env);
  return {
    verify: cfg.tlsVerify ?? true,
    caFile: cfg.tlsCaCert ?? join(dir, 'ca.pem'),
    certFile: cfg.tlsCert ?? join(dir, 'cert.pem'),
    keyFile: cfg.tlsKey ?? join(dir, 'key.pem'),
  };
}

/** The listeners, their TLS, and the unauthenticated-TCP rule applied. Throws when berthd must not start. */
export function planTransport(cfg: TlsSettings & Pick<TransportSettings, 'hosts'>, env: NodeJS.ProcessEnv = process.env): TransportPlan {
  const listeners = cfg.hosts.map(parseDaemonHost);
  const seen = new Set<string>();
  for (const l of listeners) {
    if (seen.has(l.host)) throw new InvalidParameter('daemon.invalid_host', `the host ${l.host} is given twice`);
    seen.add(l.host);
  }
  const tls = planTls(cfg, env);
  const optedOut = cfg.tls === false || cfg.tlsVerify === false;
  const insecure = listeners.filter((l) => l.kind === 'tcp' && !tls?.verify);
  const warnings: string[] = [];
  for (const l of insecure) {
    if (!optedOut) {
      throw new InvalidParameter(
        'daemon.insecure_tcp',
        `refusing to listen on ${l.host} without --tlsverify: anyone who can reach it would get root access to this machine. ` +
          'Use --tlsverify with --tlscacert, --tlscert and --tlskey (berth certs create makes them), ' +
          'or pass --tls=false to accept the risk',
      );
    }
    warnings.push(
      `Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network. host="${l.host}"`,
      `Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there! host="${l.host}"`,
    );
  }
  return { listeners, ...(tls ? { tls } : {}), insecure, warnings };
}
