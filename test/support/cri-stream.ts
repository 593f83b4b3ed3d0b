/**
 * A test client for berthd's CRI streaming server: opens the URL an Exec,
 * Attach or PortForward call returned with a websocket channel protocol
 * (as kubectl through the API server would) and gathers each channel's bytes.
 *
 *   const s = await CriStream.open(url, 'v4.channel.k8s.io');
 *   s.send(0, 'input'); await s.closed; s.text(1);
 */
import WebSocket from 'ws';

export class CriStream {
  readonly frames: { channel: number; data: Buffer }[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer) => {
      const base64 = ws.protocol.includes('base64');
      const channel = base64 ? raw[0]! - 48 : raw[0]!;
      const data = base64 ? Buffer.from(raw.subarray(1).toString('latin1'), 'base64') : Buffer.from(raw.subarray(1));
      this.frames.push({ channel, data });
    });
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  /** Connects; rejects with the HTTP status when the server refuses the upgrade. */
  static open(url: string, protocol?: string): Promise<CriStream> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), protocol ? [protocol] : []);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new CriStream(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  send(channel: number, data: string | Buffer): void {
    const bytes = Buffer.from(data);
    if (this.ws.protocol.includes('base64')) this.ws.send(String.fromCharCode(48 + channel) + bytes.toString('base64'));
    else this.ws.send(Buffer.concat([Buffer.from([channel]), bytes]));
  }

  /** Every byte received on a channel so far. */
  bytes(channel: number): Buffer {
    return Buffer.concat(this.frames.filter((f) => f.channel === channel).map((f) => f.data));
  }

  text(channel: number): string {
    return this.bytes(channel).toString('utf8');
  }

  close(): void {
    this.ws.close();
  }
}
