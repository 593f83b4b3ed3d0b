/**
 * How the client reaches the daemon for each kind of address: a unix
 * socket, TCP (HTTPS when it has TLS settings), or an ssh:// host through
 * the ssh client. One pooled Agent per client; hijacked and raw connections
 * get their own connection.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { CommandConn } from './command-conn.js';
import { sshArguments, type DaemonAddress } from './host.js';

/** TLS settings of an endpoint, as docker keeps them: PEM bytes, and whether to skip server verification. */
export interface ClientTls {
  /** Trusted CAs for the daemon's certificate (none: the system's). */
  ca?: Buffer;
  /** The client certificate and key, sent when the daemon asks (mutual TLS). */
  cert?: Buffer;
  key?: Buffer;
  skipVerify: boolean;
}

export interface TransportOptions {
  /** For tcp:// addresses: HTTPS with these settings (none: plain HTTP). */
  tls?: ClientTls;
  /** For ssh:// addresses: the ssh program (default `ssh` from PATH) and the remote program. */
  sshCommand?: string;
  remoteProgram?: string;
}

/** docker's Host header for sockets and ssh (moby client DummyHost). */
export const DUMMY_HOST = 'api.moby.localhost';
const MAX_SOCKETS = 8;

let deferredTrust: (string | Buffer)[] | undefined;

/**
 * The system's roots plus the CAs of $NODE_EXTRA_CA_CERTS when bin/berth kept Node from loading
 * them at start-up (it passes the file on as $BERTH_EXTRA_CA_CERTS); undefined otherwise, where
 * Node's default store already holds them. Read once, synchronously: only the CLI sets it.
 */
function deferredSystemTrust(): (string | Buffer)[] | undefined {
  const file = process.env.BERTH_EXTRA_CA_CERTS;
  if (!file) return undefined;
  if (!deferredTrust) {
    const { rootCertificates } = process.getBuiltinModule('node:tls');
    try {
      deferredTrust = [...rootCertificates, readFileSync(file)];
    } catch (err) {
      // Node's own words when it cannot load the file at start-up
      process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
      deferredTrust = [...rootCertificates];
    }
  }
  return deferredTrust;
}

type Requester = (options: RequestOptions, callback?: (res: IncomingMessage) => void) => ClientRequest;

export class Transport {
  readonly agent: HttpAgent;
  private readonly requester: Requester;

  constructor(readonly address: DaemonAddress, private readonly o: TransportOptions = {}) {
    if (address.kind === 'tcp' && o.tls) {
      // https and tls load only for TLS endpoints: loading them costs a plain CLI run ~10 ms
      const https = process.getBuiltinModule('node:https');
      this.agent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, ...this.tlsOptions() });
      this.requester = https.request;
    } else {
      this.agent = new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });
      this.requester = httpRequest;
      if (address.kind === 'ssh') {
        (this.agent as unknown as { createConnection: () => Duplex }).createConnection = () => this.sshConn();
      }
    }
  }

  get secure(): boolean {
    return this.address.kind === 'tcp' && !!this.o.tls;
  }

  private tlsOptions(): ConnectionOptions {
    const t = this.o.tls!;
    const ca = t.ca ?? deferredSystemTrust();
    return {
      ...(ca ? { ca } : {}),
      ...(t.cert && t.key ? { cert: t.cert, key: t.key } : {}),
      rejectUnauthorized: !t.skipVerify,
      minVersion: 'TLSv1.2',
    };
  }

  private sshConn(): CommandConn {
    const a = this.address as Extract<DaemonAddress, { kind: 'ssh' }>;
    return new CommandConn(this.o.sshCommand ?? 'ssh', sshArguments(a, this.o.remoteProgram ?? 'berth'),
      `, make sure the URL is valid, and berth is installed on the remote host`);
  }

  /** Options for one request; `pooled: false` for connections that are hijacked (never go back to a pool). */
  options(method: string, path: string, headers: Record<string, string>, pooled = true): RequestOptions {
    const a = this.address;
    // servername '' spares node's agent its SNI guess (net.isIPv6's regex
    // compiles in ~14 ms, a fifth of a CLI run); only TLS uses a servername
    const base: RequestOptions = { method, path, headers, agent: pooled ? this.agent : false, ...(this.secure ? {} : { servername: '' }) };
    switch (a.kind) {
      case 'unix':
        return { ...base, socketPath: a.socketPath, headers: { Host: DUMMY_HOST, ...headers } };
      case 'ssh': {
        const ssh: RequestOptions = { ...base, host: DUMMY_HOST, headers: { Host: DUMMY_HOST, ...headers } };
        if (pooled) return ssh;
        // node uses `createConnection` only when no agent is given at all
        delete ssh.agent;
        return { ...ssh, createConnection: () => this.sshConn() as never };
      }
      case 'tcp':
        return { ...base, host: a.host, port: a.port, ...(this.secure && !pooled ? this.tlsOptions() : {}) };
    }
  }

  request(options: RequestOptions, callback?: (res: IncomingMessage) => void): ClientRequest {
    return this.requester(options, callback);
  }

  /** A raw byte stream to the daemon (for `system dial-stdio`). */
  dial(): Promise<Duplex> {
    const a = this.address;
    if (a.kind === 'ssh') return Promise.resolve(this.sshConn());
    return new Promise((resolve, reject) => {
      const sock = a.kind === 'unix'
        ? netConnect({ path: a.socketPath, allowHalfOpen: true })
        : this.secure
          ? process.getBuiltinModule('node:tls').connect({ host: a.host, port: a.port, ...(isIpLiteral(a.host) ? {} : { servername: a.host }), ...this.tlsOptions() })
          : netConnect({ host: a.host, port: a.port, allowHalfOpen: true });
      sock.once(this.secure ? 'secureConnect' : 'connect', () => {
        sock.off('error', reject);
        resolve(sock);
      });
      sock.once('error', reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function isIpLiteral(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(':');
}
