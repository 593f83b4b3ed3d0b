/**
 * Exec and attach over SPDY, as the kubelet's remotecommand server takes
 * them (what the API server and `kubectl exec` through it speak): the client
 * opens one stream per purpose, named by its `streamType` header — error,
 * stdin, stdout, stderr, and resize for a TTY from v3 — and the command
 * starts once all it asked for are there. The streams then serve as the
 * channels the websocket protocols number (0 stdin ... 4 resize), so one
 * handler (remote-command.ts) serves both; the end of the stdin stream is
 * v5's close signal, and the resize stream's concatenated JSON sizes come
 * out one object per frame.
 */
import { CLOSE_SIGNAL, ERROR, RESIZE, STDERR, STDIN, STDOUT, type Channels } from './channels.js';
import type { SpdySession, SpdyStream } from './spdy/session.js';

/** Newest first, as the kubelet lists them (v5 is websocket-only). */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

const CHANNEL_OF: Record<string, number> = { stdin: STDIN, stdout: STDOUT, stderr: STDERR, error: ERROR, resize: RESIZE };

export class SpdyChannels implements Channels {
  readonly version: number;
  private readonly streams = new Map<number, SpdyStream>();
  private handler: ((channel: number, data: Buffer) => void) | undefined;
  /** What came before a handler was set (stdin typed ahead of the last stream's arrival). */
  private early: [number, Buffer][] = [];
  private resizeBuf = '';

  constructor(private readonly session: SpdySession, protocol: string) {
    const m = /^v(\d+)\./.exec(protocol);
    this.version = m ? Number(m[1]) : 1;
  }

  get onFrame(): (channel: number, data: Buffer) => void {
    return this.handler ?? (() => {});
  }

  set onFrame(fn: (channel: number, data: Buffer) => void) {
    this.handler = fn;
    for (const [c, d] of this.early.splice(0)) fn(c, d);
  }

  private deliver(channel: number, data: Buffer): void {
    if (this.handler) this.handler(channel, data);
    else this.early.push([channel, data]);
  }

  /** Takes a stream the client opened; false for a stream type remote commands do not have. */
  add(st: SpdyStream): boolean {
    const channel = CHANNEL_OF[st.headers.streamtype ?? ''];
    if (channel === undefined) return false;
    this.streams.set(channel, st);
    if (channel === STDIN) {
      st.on('data', (d: Buffer) => this.deliver(STDIN, d));
      st.on('end', () => this.deliver(CLOSE_SIGNAL, Buffer.from([STDIN])));
    } else if (channel === RESIZE) {
      st.on('data', (d: Buffer) => this.resized(d));
    }
    return true;
  }

  has(channel: number): boolean {
    return this.streams.has(channel);
  }

  /** Go's json.Encoder writes `{"Width":80,"Height":24}\n` per size; frames may cut or join them. */
  private resized(d: Buffer): void {
    this.resizeBuf += d.toString('utf8');
    for (let end = this.resizeBuf.indexOf('}'); end >= 0; end = this.resizeBuf.indexOf('}')) {
      const obj = this.resizeBuf.slice(0, end + 1).trim();
      this.resizeBuf = this.resizeBuf.slice(end + 1);
      this.deliver(RESIZE, Buffer.from(obj));
    }
  }

  send(channel: number, data: Buffer): boolean {
    const st = this.streams.get(channel);
    return st ? st.write(data) : true;
  }

  async drained(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.drained()));
  }

  /** FIN on every stream, then GOAWAY, as the kubelet closes its side when the command is done. */
  close(): void {
    for (const st of this.streams.values()) st.end();
    void this.session.close();
  }

  onClose(cb: () => void): void {
    if (this.session.closed) cb();
    else this.session.once('close', cb);
  }
}

/** Which streams the kubelet waits for: error, each stdio asked for (stderr never with a TTY), resize for a TTY from v3. */
export function expectedStreams(want: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }, version: number): number {
  return 1 + Number(want.stdin) + Number(want.stdout) + Number(want.stderr && !want.tty) + Number(want.tty && version >= 3);
}

/**
 * Replies to each stream the client opens and resolves once the expected
 * number has come; rejects after `timeoutMs` (the kubelet's stream creation
 * timeout), when the session is gone first.
 */
export function acceptRemoteCommandStreams(
  session: SpdySession, protocol: string, want: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }, timeoutMs = 30_000,
): Promise<SpdyChannels> {
  const channels = new SpdyChannels(session, protocol);
  const expected = expectedStreams(want, channels.version);
  let received = 0;
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      // later streams are still replied to (and served when of a known type), as the kubelet's upgrader does
      session.off('close', onClose);
      if (err) reject(err);
      else resolve(channels);
    };
    let settled = false;
    const onStream = (st: SpdyStream) => {
      st.reply();
      if (channels.add(st) && ++received === expected && !settled) {
        settled = true;
        done();
      }
    };
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      done(new Error(message));
    };
    const onClose = () => fail('the client closed the connection before creating its streams');
    const timer = setTimeout(() => fail('timed out waiting for client to create streams'), timeoutMs);
    session.on('stream', onStream);
    session.once('close', onClose);
  });
}
