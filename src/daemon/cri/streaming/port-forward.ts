/**
 * Port forwarding over the kubelet's websocket protocol: for the i-th port
 * of the URL's `port` query, channel 2i carries the data both ways and
 * 2i+1 the errors; each channel first sends its port (2 bytes, little
 * endian). The connection is made to localhost inside the pod's network
 * namespace, as containerd does, so a server bound to the pod's 127.0.0.1
 * is reached: Node cannot enter a namespace, so `nsenter` runs `socat`
 * there (dockershim's way). Without socat it dials the pod's address from
 * the host (the bridge reaches it).
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { InvalidParameter } from '../../../errdefs/index.js';
import type { Channels } from './channels.js';

/** The ports of the `port` query parameters (each may be a comma list), as the kubelet reads them. */
export function parsePorts(query: URLSearchParams): number[] {
  const values = query.getAll('port');
  if (!values.length) throw new InvalidParameter('cri.portforward_port', 'query parameter "port" is required');
  const ports: number[] = [];
  for (const v of values) {
    if (!v) throw new InvalidParameter('cri.portforward_port', 'query parameter "port" cannot be empty');
    for (const p of v.split(',')) {
      const n = /^\d+$/.test(p) ? Number(p) : NaN;
      if (!(n <= 65535)) throw new InvalidParameter('cri.portforward_port', `unable to parse "${v}" as a port`);
      if (n < 1) throw new InvalidParameter('cri.portforward_port', `port "${v}" must be > 0`);
      ports.push(n);
    }
  }
  return ports;
}

/** Where to connect: the pod's namespace (its pause process's pid) with socat, or an address. */
export type ForwardTarget = { netnsPid: number; socat: string } | { address: string };

export interface Conn {
  input: Writable;
  output: Readable;
  /** Resolves with an error's text, or undefined when the connection just ended. */
  ended: Promise<string | undefined>;
  destroy(): void;
}

export function dial(target: ForwardTarget, port: number): Conn {
  if ('address' in target) {
    const c = connect({ host: target.address, port });
    const ended = new Promise<string | undefined>((resolve) => {
      c.once('error', (err) => resolve(err.message));
      c.once('close', () => resolve(undefined));
    });
    return { input: c, output: c, ended, destroy: () => c.destroy() };
  }
  const p = spawn('nsenter', [`--net=/proc/${target.netnsPid}/ns/net`, target.socat, '-', `TCP4:localhost:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  p.stdin.on('error', () => {}); // the process ended before taking all the input
  const ended = new Promise<string | undefined>((resolve) => {
    p.once('error', (err) => resolve(err.message));
    p.once('close', (code) => resolve(code ? stderr.trim() || `socat exited with ${code}` : undefined));
  });
  return { input: p.stdin, output: p.stdout, ended, destroy: () => { if (p.exitCode === null) p.kill('SIGKILL'); } };
}

export function servePortForward(sock: Channels, podId: string, target: ForwardTarget, ports: number[]): void {
  const conns: Conn[] = [];
  let open = ports.length;
  const done = () => {
    if (--open === 0) void sock.drained().then(() => sock.close());
  };
  ports.forEach((port, i) => {
    const data = 2 * i;
    const errors = data + 1;
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    sock.send(data, portBytes);
    sock.send(errors, portBytes);
    const conn = dial(target, port);
    conns.push(conn);
    conn.output.on('data', (chunk: Buffer) => {
      if (!sock.send(data, chunk)) {
        conn.output.pause();
        void sock.drained().then(() => conn.output.resume());
      }
    });
    void conn.ended.then((err) => {
      if (err) sock.send(errors, Buffer.from(`error forwarding port ${port} to pod ${podId}, uid : ${err}`));
      done();
    });
  });
  sock.onFrame = (channel, chunk) => {
    const c = channel % 2 === 0 ? conns[channel / 2] : undefined;
    if (c && !c.input.writableEnded && !c.input.destroyed) c.input.write(chunk);
  };
  sock.onClose(() => {
    for (const c of conns) c.destroy();
  });
}
