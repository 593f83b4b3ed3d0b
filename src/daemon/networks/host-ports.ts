/**
 * Host ports held for published container ports. berth binds each host
 * port itself (as dockerd does since 25), so a port taken by another
 * container or by a host process is refused before anything is set up,
 * `-p 80` gets a free port from the kernel, and nothing else can take the
 * port while the container runs.
 *
 * IPv4 traffic never reaches these sockets: the DNAT rules redirect it
 * first. The IPv6 side of a port (`-p 80` binds `0.0.0.0` and `::`, as
 * dockerd does; `-p [::1]:80:80` only `::1`) is a userland proxy to the
 * container's IPv4 address, known once its endpoint is up (`route`).
 *
 *   const maps = await ports.reserve(id, name, [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
 *   // → 0.0.0.0:8080 (held, for portmap's DNAT) and [::]:8080 (proxy)
 *   ports.route(id, '10.88.0.2');
 *   ports.release(id);
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { SystemError } from '../../errdefs/index.js';
import { isIpv6Host, type PortMapping } from './ports.js';
import { openProxy } from './userland-proxy.js';

interface Held {
  close(): void;
  /** Proxies only: starts relaying to the container. */
  route?(ip: string): void;
}

/** How often a port the kernel picked for IPv4 is tried again when it is taken on IPv6. */
const SAME_PORT_TRIES = 5;

function listenTcp(host: string, port: number): Promise<{ held: Held; port: number }> {
  return new Promise((resolve, reject) => {
    const srv: Server = createServer((s) => s.destroy());
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true, backlog: 1 }, () => {
      srv.off('error', reject);
      srv.unref();
      resolve({ held: { close: () => srv.close() }, port: (srv.address() as { port: number }).port });
    });
  });
}

function bindUdp(host: string, port: number): Promise<{ held: Held; port: number }> {
  return new Promise((resolve, reject) => {
    const s: UdpSocket = createSocket({ type: 'udp4', reuseAddr: false });
    s.once('error', reject);
    s.bind({ address: host, port, exclusive: true }, () => {
      s.off('error', reject);
      s.unref();
      s.on('message', () => {});
      resolve({ held: { close: () => s.close() }, port: s.address().port });
    });
  });
}

function bindError(code: string | undefined, err: Error): string {
  return code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : err.message;
}

/** `0.0.0.0:80` or `[::]:80`, as Docker writes a host address and port. */
function hostPort(host: string, port: number): string {
  return isIpv6Host(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

export class HostPorts {
  private readonly byContainer = new Map<string, Held[]>();
  /** `ip:port/proto` → container id, to tell our own conflicts from the host's. */
  private readonly owners = new Map<string, string>();

  /**
   * Binds every mapping's host port; fills in ports chosen by the kernel.
   * A mapping without a host address comes back as two, `0.0.0.0` and
   * `::` on the same port (just the first when the host has no IPv6).
   * All or nothing: on a conflict, what was bound is released again.
   */
  async reserve(containerId: string, endpoint: string, maps: PortMapping[]): Promise<PortMapping[]> {
    const held: Held[] = [];
    const keys: string[] = [];
    const out: PortMapping[] = [];
    const bind = async (m: PortMapping, host: string, port: number): Promise<{ held: Held; port: number }> => {
      const key = `${hostPort(host, port)}/${m.protocol}`;
      const wildcard = `${hostPort(isIpv6Host(host) ? '::' : '0.0.0.0', port)}/${m.protocol}`;
      if (port && (this.owners.has(key) || this.owners.has(wildcard))) {
        throw new SystemError('network.port_allocated', `driver failed programming external connectivity on endpoint ${endpoint}: Bind for ${hostPort(host, port)} failed: port is already allocated`);
      }
      const r = isIpv6Host(host)
        ? await openProxy(host, port, m.protocol as 'tcp' | 'udp').then((p) => ({ port: p.port, held: { close: () => p.close(), route: (ip: string) => p.route(ip, m.containerPort) } }))
        : m.protocol === 'udp' ? await bindUdp(host, port) : await listenTcp(host, port);
      held.push(r.held);
      const realKey = `${hostPort(host, r.port)}/${m.protocol}`;
      this.owners.set(realKey, containerId);
      keys.push(realKey);
      return r;
    };
    const failed = (m: PortMapping, host: string, err: unknown): never => {
      if (err instanceof SystemError) throw err;
      const why = bindError((err as NodeJS.ErrnoException).code, err as Error);
      throw new SystemError('network.port_bind_failed', `driver failed programming external connectivity on endpoint ${endpoint}: failed to bind host port for ${hostPort(host, m.hostPort)}:${m.containerPort}/${m.protocol}: ${why}`);
    };
    const unbind = (h: Held, key: string) => {
      h.close();
      held.splice(held.indexOf(h), 1);
      keys.splice(keys.indexOf(key), 1);
      this.owners.delete(key);
    };
    try {
      for (const m of maps) {
        if (m.protocol === 'sctp') {
          out.push({ ...m, hostIp: m.hostIp || '0.0.0.0' });
          continue;
        }
        if (m.hostIp) {
          const r = await bind(m, m.hostIp, m.hostPort).catch((err) => failed(m, m.hostIp, err));
          out.push({ ...m, hostPort: r.port });
          continue;
        }
        // both families on one port; a port the kernel picked for IPv4 may be taken on IPv6: pick again
        for (let attempt = 1; ; attempt++) {
          const v4 = await bind(m, '0.0.0.0', m.hostPort).catch((err) => failed(m, '0.0.0.0', err));
          const v6 = await bind(m, '::', v4.port).then((r) => r, (err: NodeJS.ErrnoException) => err);
          if (!(v6 instanceof Error)) {
            out.push({ ...m, hostIp: '0.0.0.0', hostPort: v4.port }, { ...m, hostIp: '::', hostPort: v4.port });
            break;
          }
          if (v6.code === 'EAFNOSUPPORT' || v6.code === 'EADDRNOTAVAIL') {
            out.push({ ...m, hostIp: '0.0.0.0', hostPort: v4.port }); // no IPv6 on this host
            break;
          }
          if (m.hostPort || attempt >= SAME_PORT_TRIES) failed({ ...m, hostPort: v4.port }, '::', v6);
          unbind(v4.held, `${hostPort('0.0.0.0', v4.port)}/${m.protocol}`);
        }
      }
    } catch (err) {
      for (const h of held) h.close();
      for (const k of keys) this.owners.delete(k);
      throw err;
    }
    this.byContainer.set(containerId, [...(this.byContainer.get(containerId) ?? []), ...held]);
    return out;
  }

  /** The container's IPv4 address: its proxied ports relay there from now on. */
  route(containerId: string, ip: string): void {
    for (const h of this.byContainer.get(containerId) ?? []) h.route?.(ip);
  }

  release(containerId: string): void {
    for (const h of this.byContainer.get(containerId) ?? []) h.close();
    this.byContainer.delete(containerId);
    for (const [k, owner] of this.owners) if (owner === containerId) this.owners.delete(k);
  }
}
