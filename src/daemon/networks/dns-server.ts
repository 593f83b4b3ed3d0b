/**
 * berth's DNS server of one user-defined network, on the network's gateway
 * address (port 53, UDP). Names of containers on the network (container
 * name, short id, --network-alias, --hostname) get their addresses; every
 * other query is forwarded as it is to the host's resolvers, which the
 * daemon reaches from the host's namespace (loopback resolvers included).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../../lib/logger.js';
import { answer, parseQuery, RCODE_SERVFAIL, TYPE_A, type Question } from './dns-message.js';

const FORWARD_TIMEOUT_MS = 2000;

/** Addresses on this network for a lower-case name, or undefined when the name is not ours. */
export type NameLookup = (name: string) => number[] | undefined;

export class DnsServer {
  private socket: Socket | undefined;

  constructor(
    private readonly address: string,
    private readonly lookup: NameLookup,
    private readonly upstreams: () => string[],
    private readonly log: Logger,
    private readonly port = 53,
  ) {}

  async start(): Promise<void> {
    const s = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: this.address, port: this.port, exclusive: true }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    this.serve(s);
  }

  /** Serves on a socket bound elsewhere (inside a container's namespace: netns-socket.ts). */
  serve(s: Socket): void {
    s.on('error', (err) => this.log.warn('dns server error', { address: this.address, error: err.message }));
    s.on('message', (msg, from) => void this.handle(msg, from.address, from.port));
    s.unref();
    this.socket = s;
  }

  get boundPort(): number {
    return this.socket?.address().port ?? 0;
  }

  private async handle(msg: Buffer, host: string, port: number): Promise<void> {
    const q = parseQuery(msg);
    if (!q) return;
    const reply = await this.resolve(q, msg);
    this.socket?.send(reply, port, host);
  }

  private async resolve(q: Question, raw: Buffer): Promise<Buffer> {
    const name = q.name.replace(/\.$/, '');
    const ips = this.lookup(name);
    if (ips) return answer(q, q.type === TYPE_A ? ips : []); // our names have IPv4 addresses only
    for (const upstream of this.upstreams()) {
      const r = await forward(raw, upstream).catch(() => undefined);
      if (r) return r;
    }
    return answer(q, [], RCODE_SERVFAIL);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}

/** One query to one upstream resolver; the reply as it came. */
function forward(query: Buffer, upstream: string): Promise<Buffer> {
  const [host, p] = upstream.includes(':') && !upstream.includes('::') ? upstream.split(':') as [string, string] : [upstream, '53'];
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('timeout'));
    }, FORWARD_TIMEOUT_MS);
    s.on('error', (err) => {
      clearTimeout(timer);
      s.close();
      reject(err);
    });
    s.on('message', (msg) => {
      if (msg.length < 2 || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
      clearTimeout(timer);
      s.close();
      resolve(msg);
    });
    s.send(query, Number(p), host);
  });
}
