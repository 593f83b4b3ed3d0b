/**
 * A SPDY/3.1 session over a socket, either end: streams opened by the
 * client (odd ids) and, here, never by the server; SYN_REPLY, FIN and
 * RST_STREAM; PING answered; GOAWAY; flow control.
 *
 *   const s = new SpdySession(socket, 'server');
 *   s.on('stream', (st) => { st.reply(); st.on('data', ...); st.write(buf); st.end(); });
 *
 * Flow control: windows start at 64 KiB per stream and for the session;
 * berth sends WINDOW_UPDATEs for what it received. It holds its own sends
 * to the peer's windows only once the peer shows it does flow control (a
 * SETTINGS or WINDOW_UPDATE frame): moby/spdystream, which the kubelet,
 * the API server and client-go use, sends neither and ignores both, so
 * holding to its windows would stall every stream after 64 KiB.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_WINDOW, FLAG_FIN, FLAG_UNIDIRECTIONAL, FrameParser, RstStatus, SETTINGS_INITIAL_WINDOW_SIZE,
  dataFrame, goAwayFrame, pingFrame, rstStreamFrame, settingsFrame, synReplyFrame, synStreamFrame, windowUpdateFrame,
  type Frame, type Headers,
} from './frames.js';
import { HeaderCompressor, HeaderDecompressor } from './header-codec.js';

/** The largest DATA frame sent (what most SPDY stacks use). */
const MAX_CHUNK = 16 * 1024;

export class SpdyStream extends EventEmitter {
  /** Set when the peer sent FIN (no more data will come). */
  remoteEnded = false;
  /** Set when berth sent FIN. */
  localEnded = false;
  reset = false;
  sendWindow: number;
  private readonly pending: { data: Buffer; fin: boolean }[] = [];
  private unacked = 0;
  private drainWaiters: (() => void)[] = [];
  /** Resolves when the server replied (client side), rejects when it reset the stream. */
  readonly replied: Promise<void>;
  resolveReply!: () => void;
  rejectReply!: (err: Error) => void;

  constructor(readonly session: SpdySession, readonly id: number, readonly headers: Headers, unidirectional: boolean) {
    super();
    this.sendWindow = session.initialSendWindow;
    this.localEnded = unidirectional;
    this.replied = new Promise((resolve, reject) => {
      this.resolveReply = resolve;
      this.rejectReply = reject;
    });
    this.replied.catch(() => {});
  }

  /** Accepts a stream the peer opened (SYN_REPLY). */
  reply(headers: Headers = {}): void {
    this.session.send(synReplyFrame(this.id, this.session.compressor.compress(headers)));
    this.resolveReply();
  }

  /** Queues bytes; false when much is queued (wait for drained()). */
  write(data: Buffer | string): boolean {
    if (this.localEnded || this.reset) return true;
    const buf = Buffer.from(data);
    if (buf.length) this.pending.push({ data: buf, fin: false });
    this.session.pump(this);
    return this.queued() < 1 << 20;
  }

  /** Sends FIN after what is queued: berth's half of the stream is done. */
  end(data?: Buffer | string): void {
    if (this.localEnded || this.reset) return;
    this.pending.push({ data: data === undefined ? Buffer.alloc(0) : Buffer.from(data), fin: true });
    this.localEnded = true;
    this.session.pump(this);
  }

  /** RST_STREAM: both halves closed at once. */
  resetStream(status: number = RstStatus.Cancel): void {
    if (this.reset) return;
    this.session.send(rstStreamFrame(this.id, status));
    this.closeAsReset();
  }

  /** Resolves when everything queued has gone to the socket. */
  drained(): Promise<void> {
    if (!this.pending.length || this.reset) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  queued(): number {
    return this.pending.reduce((n, p) => n + p.data.length, 0);
  }

  /** Takes the next frame's worth from the queue, within the windows when they apply. */
  nextFrame(budget: number): Buffer | undefined {
    const head = this.pending[0];
    if (!head) return undefined;
    const n = Math.min(head.data.length, MAX_CHUNK, budget);
    if (n <= 0 && head.data.length) return undefined;
    const piece = head.data.subarray(0, n);
    head.data = head.data.subarray(n);
    const fin = head.fin && head.data.length === 0;
    if (!head.data.length) this.pending.shift();
    if (!this.pending.length) for (const w of this.drainWaiters.splice(0)) w();
    return Object.assign(dataFrame(this.id, piece, fin), { payload: n, fin });
  }

  /** Data from the peer: delivered, then its window is given back in halves. */
  received(data: Buffer, fin: boolean): void {
    if (data.length) {
      this.emit('data', data);
      this.unacked += data.length;
      if (!fin && this.unacked >= DEFAULT_WINDOW / 2) {
        this.session.send(windowUpdateFrame(this.id, this.unacked));
        this.unacked = 0;
      }
    }
    if (fin) this.remoteFinished();
  }

  remoteFinished(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.emit('end');
    this.maybeClosed();
  }

  closeAsReset(): void {
    if (this.reset) return;
    this.reset = true;
    this.pending.length = 0;
    for (const w of this.drainWaiters.splice(0)) w();
    this.rejectReply(new Error(`SPDY stream ${this.id} was reset`));
    if (!this.remoteEnded) {
      this.remoteEnded = true;
      this.emit('end');
    }
    this.emit('reset');
    this.emit('close');
    this.session.forget(this);
  }

  maybeClosed(): void {
    if (this.remoteEnded && this.localEnded && !this.pending.length && !this.reset) {
      this.emit('close');
      this.session.forget(this);
    }
  }
}

export class SpdySession extends EventEmitter {
  readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly parser = new FrameParser();
  private readonly streams = new Map<number, SpdyStream>();
  /** Frames are handled one at a time, in order: a header block must be decoded before the next frame. */
  private chain: Promise<void> = Promise.resolve();
  private nextStreamId: number;
  private nextPingId: number;
  private readonly pings = new Map<number, () => void>();
  private lastPeerStreamId = 0;
  /** Whether the peer has shown it does flow control; until then its windows are not held to. */
  flowControl = false;
  initialSendWindow = DEFAULT_WINDOW;
  private sessionSendWindow = DEFAULT_WINDOW;
  private sessionUnacked = 0;
  closed = false;
  goneAway = false;

  constructor(readonly socket: Duplex, readonly role: 'client' | 'server', head?: Buffer) {
    super();
    this.nextStreamId = role === 'client' ? 1 : 2;
    this.nextPingId = role === 'client' ? 1 : 2;
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', (err) => this.emit('socketError', err));
    socket.on('close', () => this.teardown());
    // the peer's FIN ends the session (SPDY has no half-closed connection): end
    // our side too, or the socket sits in CLOSE-WAIT and keeps the streaming
    // server's close() (berthd's shutdown) waiting on it for ever
    socket.on('end', () => {
      this.teardown();
      socket.end();
    });
    if (head?.length) this.onBytes(head);
  }

  /** Announces berth's window (so a peer that does flow control knows it does too). */
  sendSettings(): void {
    this.send(settingsFrame([{ id: SETTINGS_INITIAL_WINDOW_SIZE, value: DEFAULT_WINDOW }]));
  }

  /** Opens a stream (the client's side); `replied` resolves at the server's SYN_REPLY. */
  openStream(headers: Headers, opts: { fin?: boolean } = {}): SpdyStream {
    if (this.closed || this.goneAway) throw new Error('SPDY session is closed');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const st = new SpdyStream(this, id, headers, false);
    this.streams.set(id, st);
    this.send(synStreamFrame(id, this.compressor.compress(headers), { fin: !!opts.fin }));
    if (opts.fin) st.localEnded = true;
    return st;
  }

  ping(): Promise<void> {
    const id = this.nextPingId;
    this.nextPingId += 2;
    return new Promise((resolve) => {
      this.pings.set(id, resolve);
      this.send(pingFrame(id));
    });
  }

  /** GOAWAY, then the socket ends once what is queued has gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.streams.values()].map((s) => s.drained()));
    if (!this.goneAway) {
      this.goneAway = true;
      this.send(goAwayFrame(this.lastPeerStreamId, 0));
    }
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
    this.teardown();
  }

  send(frame: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(frame);
  }

  /** Sends what a stream has queued, as far as the windows let it. */
  pump(st: SpdyStream): void {
    for (;;) {
      const budget = this.flowControl ? Math.min(st.sendWindow, this.sessionSendWindow) : Infinity;
      const f = st.nextFrame(budget) as (Buffer & { payload: number; fin: boolean }) | undefined;
      if (!f) break;
      if (this.flowControl) {
        st.sendWindow -= f.payload;
        this.sessionSendWindow -= f.payload;
      }
      this.send(f);
    }
    st.maybeClosed();
  }

  forget(st: SpdyStream): void {
    this.streams.delete(st.id);
  }

  private onBytes(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      this.emit('socketError', err);
      this.destroy();
      return;
    }
    for (const f of frames) {
      this.chain = this.chain.then(() => this.handle(f)).catch((err: Error) => {
        this.emit('socketError', err);
        this.destroy();
      });
    }
  }

  private async handle(f: Frame): Promise<void> {
    switch (f.type) {
      case 'syn_stream': {
        const headers = await this.decompressor.decompress(f.block);
        if (this.role === 'client' || this.goneAway || f.streamId <= this.lastPeerStreamId) {
          this.send(rstStreamFrame(f.streamId, this.goneAway ? RstStatus.RefusedStream : RstStatus.ProtocolError));
          return;
        }
        this.lastPeerStreamId = f.streamId;
        const st = new SpdyStream(this, f.streamId, headers, (f.flags & FLAG_UNIDIRECTIONAL) !== 0);
        this.streams.set(f.streamId, st);
        this.emit('stream', st);
        if (f.flags & FLAG_FIN) st.remoteFinished();
        return;
      }
      case 'syn_reply': {
        await this.decompressor.decompress(f.block);
        const st = this.streams.get(f.streamId);
        st?.resolveReply();
        if (st && f.flags & FLAG_FIN) st.remoteFinished();
        return;
      }
      case 'headers': {
        await this.decompressor.decompress(f.block);
        const st = this.streams.get(f.streamId);
        if (st && f.flags & FLAG_FIN) st.remoteFinished();
        return;
      }
      case 'data': {
        this.sessionUnacked += f.data.length;
        if (this.sessionUnacked >= DEFAULT_WINDOW / 2) {
          this.send(windowUpdateFrame(0, this.sessionUnacked));
          this.sessionUnacked = 0;
        }
        const st = this.streams.get(f.streamId);
        if (!st) {
          if (f.data.length || !(f.flags & FLAG_FIN)) this.send(rstStreamFrame(f.streamId, RstStatus.InvalidStream));
          return;
        }
        st.received(f.data, (f.flags & FLAG_FIN) !== 0);
        return;
      }
      case 'rst_stream':
        this.streams.get(f.streamId)?.closeAsReset();
        return;
      case 'settings':
        this.flowControl = true;
        for (const e of f.entries) {
          if (e.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const delta = e.value - this.initialSendWindow;
          this.initialSendWindow = e.value;
          for (const st of this.streams.values()) st.sendWindow += delta;
        }
        this.pumpAll();
        return;
      case 'window_update':
        this.flowControl = true;
        if (f.streamId === 0) this.sessionSendWindow += f.delta;
        else {
          const st = this.streams.get(f.streamId);
          if (st) st.sendWindow += f.delta;
        }
        this.pumpAll();
        return;
      case 'ping': {
        const mine = (f.id % 2 === 1) === (this.role === 'client');
        if (!mine) this.send(pingFrame(f.id));
        else {
          this.pings.get(f.id)?.();
          this.pings.delete(f.id);
        }
        return;
      }
      case 'goaway':
        this.goneAway = true;
        this.emit('goaway', f.lastGoodStreamId);
        return;
      case 'unknown':
        return;
    }
  }

  private pumpAll(): void {
    for (const st of [...this.streams.values()]) this.pump(st);
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.decompressor.close();
    for (const st of [...this.streams.values()]) st.closeAsReset();
    this.emit('close');
  }
}
