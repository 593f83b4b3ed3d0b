/**
 * The userland proxy of a published port (dockerd's docker-proxy, inside
 * berthd): a listening socket on the host that relays each TCP connection,
 * and each UDP client's datagrams, to the container's address. berth uses
 * it for the IPv6 side of published ports: the containers of its networks
 * have IPv4 addresses only, so `-p 8080:80` on `[::]:8080` (and
 * `-p [::1]:8080:80`) cannot be DNATed and is proxied instead, as dockerd
 * does for a network without IPv6.
 *
 *   const p = await openProxy('::', 8080, 'tcp');   // listens; refuses connections until routed
 *   p.route('10.88.0.2', 80);                       // relays to the container from now on
 *   p.close();                                      // listener and open connections go
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';

/** How long a UDP client's flow lives without traffic (docker-proxy's UDPConnTrackTimeout). */
const UDP_IDLE_MS = 90_000;

export interface Proxy {
  /** The bound port (the kernel's pick when asked for 0). */
  readonly port: number;
  route(ip: string, port: number): void;
  close(): void;
}

interface Target {
  ip: string;
  port: number;
}

export function openProxy(host: string, port: number, protocol: 'tcp' | 'udp'): Promise<Proxy> {
  return protocol === 'udp' ? udpProxy(host, port) : tcpProxy(host, port);
}

function tcpProxy(host: string, port: number): Promise<Proxy> {
  let target: Target | undefined;
  const open = new Set<Socket>();
  const srv = createServer({ allowHalfOpen: true }, (client) => {
    if (!target) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.ip, port: target.port, allowHalfOpen: true });
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    // half-open on both sides: a client that shuts its side down still gets the reply
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true, ipv6Only: host.includes(':') }, () => {
      srv.off('error', reject);
      srv.on('error', () => {});
      srv.unref();
      resolve({
        port: (srv.address() as { port: number }).port,
        route: (ip, p) => (target = { ip, port: p }),
        close: () => {
          srv.close();
          for (const s of open) s.destroy();
          open.clear();
        },
      });
    });
  });
}

function udpProxy(host: string, port: number): Promise<Proxy> {
  let target: Target | undefined;
  const flows = new Map<string, { sock: UdpSocket; timer: NodeJS.Timeout }>();
  const listener = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: host.includes(':') });
  const drop = (key: string) => {
    const f = flows.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    f.sock.close();
    flows.delete(key);
  };
  listener.on('message', (msg, from) => {
    if (!target) return;
    const key = `[${from.address}]:${from.port}`;
    let f = flows.get(key);
    if (!f) {
      const sock = createSocket('udp4');
      sock.on('error', () => drop(key));
      sock.on('message', (reply) => {
        listener.send(reply, from.port, from.address);
        f!.timer.refresh();
      });
      sock.unref();
      f = { sock, timer: setTimeout(() => drop(key), UDP_IDLE_MS).unref() };
      flows.set(key, f);
    }
    f.timer.refresh();
    f.sock.send(msg, target.port, target.ip);
  });
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.bind({ address: host, port, exclusive: true }, () => {
      listener.off('error', reject);
      listener.on('error', () => {});
      listener.unref();
      resolve({
        port: listener.address().port,
        route: (ip, p) => (target = { ip, port: p }),
        close: () => {
          for (const key of [...flows.keys()]) drop(key);
          listener.close();
        },
      });
    });
  });
}
