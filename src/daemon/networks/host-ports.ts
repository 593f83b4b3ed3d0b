/**
 * Host ports held for published container ports. berth binds each host
 * port itself (as dockerd does since 25), so a port taken by another
 * container or by a host process is refused before anything is set up,
 * `-p 80` gets a free port from the kernel, and nothing else can take the
 * port while the container runs. Traffic never reaches these sockets: the
 * DNAT rules redirect it first.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { SystemError } from '../../errdefs/index.js';
import type { PortMapping } from './ports.js';

type Held = { close(): void };

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

export class HostPorts {
  private readonly byContainer = new Map<string, Held[]>();
  /** `ip:port/proto` → container id, to tell our own conflicts from the host's. */
  private readonly owners = new Map<string, string>();

  /**
   * Binds every mapping's host port; fills in ports chosen by the kernel.
   * All or nothing: on a conflict, what was bound is released again.
   */
  async reserve(containerId: string, endpoint: string, maps: PortMapping[]): Promise<PortMapping[]> {
    const held: Held[] = [];
    const keys: string[] = [];
    const out: PortMapping[] = [];
    try {
      for (const m of maps) {
        const host = m.hostIp || '0.0.0.0';
        if (m.protocol === 'sctp') {
          out.push(m);
          continue;
        }
        const key = `${host}:${m.hostPort}/${m.protocol}`;
        if (m.hostPort && (this.owners.has(key) || this.owners.has(`0.0.0.0:${m.hostPort}/${m.protocol}`))) {
          throw new SystemError('network.port_allocated', `driver failed programming external connectivity on endpoint ${endpoint}: Bind for ${host}:${m.hostPort} failed: port is already allocated`);
        }
        let r;
        try {
          r = m.protocol === 'udp' ? await bindUdp(host, m.hostPort) : await listenTcp(host, m.hostPort);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : (err as Error).message;
          throw new SystemError('network.port_bind_failed', `driver failed programming external connectivity on endpoint ${endpoint}: failed to bind host port for ${host}:${m.hostPort}:${m.containerPort}/${m.protocol}: ${why}`);
        }
        held.push(r.held);
        const real = { ...m, hostPort: r.port };
        const realKey = `${host}:${r.port}/${m.protocol}`;
        this.owners.set(realKey, containerId);
        keys.push(realKey);
        out.push(real);
      }
    } catch (err) {
      for (const h of held) h.close();
      for (const k of keys) this.owners.delete(k);
      throw err;
    }
    this.byContainer.set(containerId, held);
    for (const k of keys) this.owners.set(k, containerId);
    return out;
  }

  release(containerId: string): void {
    for (const h of this.byContainer.get(containerId) ?? []) h.close();
    this.byContainer.delete(containerId);
    for (const [k, owner] of this.owners) if (owner === containerId) this.owners.delete(k);
  }
}
