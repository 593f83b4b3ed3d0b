/**
 * A test client for berthd's CRI streaming server over SPDY/3.1, as the API
 * server (client-go's SPDY executor and port forwarder) opens the URL an
 * Exec, Attach or PortForward call returned: an HTTP upgrade with
 * `X-Stream-Protocol-Version`, then one stream per purpose named by its
 * `streamType` header. It uses berthd's own session module for the framing.
 *
 *   const x = await SpdyRemoteCommand.open(url, { stdout: true });
 *   await x.done; x.text('stdout'); x.status();
 */
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { SpdySession, type SpdyStream } from '../../src/daemon/cri/streaming/spdy/session.js';

export interface SpdyUpgrade { session: SpdySession; protocol: string; headers: Record<string, string | string[] | undefined> }

/** Upgrades to SPDY/3.1 offering `protocols`; rejects with the HTTP status and body when refused. */
export function spdyConnect(url: string, protocols: string[], opts: { flowControl?: boolean } = {}): Promise<SpdyUpgrade> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' };
    if (protocols.length) headers['X-Stream-Protocol-Version'] = protocols.join(', ');
    const r = request(url, { headers });
    r.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body, headers: res.headers })));
    });
    r.on('upgrade', (res, socket: Socket, head: Buffer) => {
      const session = new SpdySession(socket, 'client', head);
      // like moby/spdystream by default: no SETTINGS, so the server does not hold to windows
      if (opts.flowControl) session.sendSettings();
      resolve({ session, protocol: String(res.headers['x-stream-protocol-version'] ?? ''), headers: res.headers });
    });
    r.on('error', reject);
    r.end();
  });
}

function gather(st: SpdyStream, into: Buffer[]): Promise<void> {
  st.on('data', (c: Buffer) => into.push(c));
  return new Promise((resolve) => st.once('end', () => resolve()));
}

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** Exec or attach: the streams client-go's v4 executor makes, in its order. */
export class SpdyRemoteCommand {
  readonly streams = new Map<StreamType, SpdyStream>();
  private readonly got = new Map<StreamType, Buffer[]>();
  /** Resolves when the server has ended the error stream and every output stream. */
  done!: Promise<void>;

  private constructor(readonly session: SpdySession, readonly protocol: string) {}

  static async open(url: string, want: { stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean },
    opts: { protocols?: string[]; flowControl?: boolean } = {}): Promise<SpdyRemoteCommand> {
    const { session, protocol } = await spdyConnect(url, opts.protocols ?? ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'], opts);
    const x = new SpdyRemoteCommand(session, protocol);
    const types: StreamType[] = ['error'];
    if (want.stdin) types.push('stdin');
    if (want.stdout) types.push('stdout');
    if (want.stderr && !want.tty) types.push('stderr');
    if (want.tty && protocol !== 'v2.channel.k8s.io' && protocol !== 'channel.k8s.io') types.push('resize');
    const ends: Promise<void>[] = [];
    for (const t of types) {
      const st = session.openStream({ streamType: t });
      x.streams.set(t, st);
      const chunks: Buffer[] = [];
      x.got.set(t, chunks);
      if (t !== 'stdin' && t !== 'resize') ends.push(gather(st, chunks));
    }
    await Promise.all([...x.streams.values()].map((s) => s.replied));
    x.done = Promise.all(ends).then(() => undefined);
    return x;
  }

  write(data: string | Buffer): void {
    this.streams.get('stdin')?.write(data);
  }

  /** Ends stdin (a FIN on its stream), as client-go does at the end of its input. */
  endStdin(): void {
    this.streams.get('stdin')?.end();
  }

  resize(width: number, height: number): void {
    this.streams.get('resize')?.write(`${JSON.stringify({ Width: width, Height: height })}\n`);
  }

  text(t: StreamType): string {
    return Buffer.concat(this.got.get(t) ?? []).toString('utf8');
  }

  /** The v4 Status written on the error stream. */
  status(): { status: string; reason?: string; message?: string; details?: { causes: { reason: string; message: string }[] } } {
    return JSON.parse(this.text('error'));
  }

  close(): void {
    this.session.destroy();
  }
}

/** One forwarded connection over a port-forward session: its data and error streams. */
export async function spdyForward(session: SpdySession, port: number, requestId: string): Promise<{ data: SpdyStream; error: SpdyStream; received: () => string; errors: () => string; ended: Promise<void> }> {
  const error = session.openStream({ streamType: 'error', port: String(port), requestID: requestId });
  const data = session.openStream({ streamType: 'data', port: String(port), requestID: requestId });
  await Promise.all([error.replied, data.replied]);
  const d: Buffer[] = [];
  const e: Buffer[] = [];
  const ended = Promise.all([gather(data, d), gather(error, e)]).then(() => undefined);
  return { data, error, received: () => Buffer.concat(d).toString(), errors: () => Buffer.concat(e).toString(), ended };
}
