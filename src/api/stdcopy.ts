/**
 * Docker's stream multiplexing for non-TTY attach, exec and logs: each frame
 * is [stream byte, 0, 0, 0, uint32 BE length] + payload (moby stdcopy).
 */
export const enum StdStream {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  SystemErr = 3,
}

const HEADER = 8;

export function frame(stream: StdStream, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out[0] = stream;
  out[1] = out[2] = out[3] = 0;
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, HEADER);
  return out;
}

/**
 * Reassembles frames from arbitrary chunks and hands each payload to `onFrame`.
 *   const demux = new StdDemuxer((stream, data) => ...); socket.on('data', (c) => demux.push(c));
 */
export class StdDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: StdStream, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= HEADER) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < HEADER + len) return;
      const stream = this.buf[0] as StdStream;
      const payload = this.buf.subarray(HEADER, HEADER + len);
      this.buf = this.buf.subarray(HEADER + len);
      this.onFrame(stream, payload);
    }
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get pending(): number {
    return this.buf.length;
  }
}
