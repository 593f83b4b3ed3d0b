/**
 * Port forwarding over the kubelet's websocket protocol: for the i-th port
 * of the URL's `port` query, channel 2i carries the data both ways and
 * 2i+1 the errors; each channel first sends its port (2 bytes, little
 * endian). The connection goes to the pod's address from the host (the
 * bridge reaches it), or to the loopback for a pod on the node's network.
 */
import { connect, type Socket } from 'node:net';
import { InvalidParameter } from '../../../errdefs/index.js';
import type { ChannelSocket } from './channels.js';

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

export function servePortForward(sock: ChannelSocket, podId: string, address: string, ports: number[]): void {
  const conns: Socket[] = [];
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
    const conn = connect({ host: address, port });
    conns.push(conn);
    conn.on('data', (chunk: Buffer) => {
      if (!sock.send(data, chunk)) {
        conn.pause();
        void sock.drained().then(() => conn.resume());
      }
    });
    conn.once('error', (err) => {
      sock.send(errors, Buffer.from(`error forwarding port ${port} to pod ${podId}, uid : ${err.message}`));
    });
    conn.once('close', done);
  });
  sock.onFrame = (channel, chunk) => {
    if (channel % 2 === 0) conns[channel / 2]?.write(chunk);
  };
  sock.ws.on('close', () => {
    for (const c of conns) c.destroy();
  });
}
