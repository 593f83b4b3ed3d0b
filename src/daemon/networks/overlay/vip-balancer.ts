/**
 * Service VIPs on this node: every container namespace here that is on an
 * overlay network gets, in its nat table, the DNAT rules (lb-rules.ts) that
 * spread the VIPs of that network over the service's endpoints, as Docker
 * programs IPVS into each sandbox. Rewritten whenever the network's VIPs or
 * endpoints change (the overlay watch) and when a container joins.
 *
 *   balancer.join(containerId, netnsPath, networkId);   // after the CNI ADD
 *   balancer.changed(networkId);                        // a VIP or endpoint came or went
 *   balancer.leave(containerId, networkId);             // before the DEL
 *
 * Applying is debounced and one namespace at a time; a namespace that is
 * gone (the container ended) is skipped.
 */
import type { Logger } from '../../../lib/logger.js';
import type { OverlayEndpointRecord, VipRecord } from '../../cluster/network-records.js';
import { applyLbRules, type VipBackends } from '../lb-rules.js';

export interface VipState {
  vips(networkId: string): Iterable<VipRecord>;
  endpoints(networkId: string): Iterable<OverlayEndpointRecord>;
}

const DEBOUNCE_MS = 30;

/** The VIPs a namespace on `networks` balances (pure). */
export function sandboxVips(networks: Iterable<string>, state: VipState): VipBackends[] {
  const out: VipBackends[] = [];
  for (const net of networks) {
    const eps = [...state.endpoints(net)];
    for (const v of state.vips(net)) out.push({ vip: v.ip, backends: eps.filter((e) => e.serviceId === v.serviceId && e.ip).map((e) => e.ip) });
  }
  return out;
}

export class VipBalancer {
  /** container id -> its namespace and overlay networks on this node */
  private readonly sandboxes = new Map<string, { netns: string; nets: Set<string> }>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly state: VipState, private readonly log: Logger) {}

  join(containerId: string, netns: string, networkId: string): void {
    let sb = this.sandboxes.get(containerId);
    if (!sb || sb.netns !== netns) this.sandboxes.set(containerId, (sb = { netns, nets: new Set() }));
    sb.nets.add(networkId);
    this.dirty.add(containerId);
    this.schedule();
  }

  leave(containerId: string, networkId: string): void {
    const sb = this.sandboxes.get(containerId);
    if (!sb) return;
    sb.nets.delete(networkId);
    if (!sb.nets.size) this.sandboxes.delete(containerId);
  }

  changed(networkId: string): void {
    for (const [id, sb] of this.sandboxes) if (sb.nets.has(networkId)) this.dirty.add(id);
    this.schedule();
  }

  /** Forget everything (leaving the swarm; the namespaces go with their containers). */
  clear(): void {
    this.sandboxes.clear();
    this.dirty.clear();
  }

  /** Resolves when every change so far is applied (tests, and callers that need rules before a start). */
  async settled(): Promise<void> {
    while (this.timer || this.dirty.size) {
      await new Promise((r) => setTimeout(r, DEBOUNCE_MS));
      await this.running;
    }
    await this.running;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.flush());
    }, DEBOUNCE_MS);
  }

  private async flush(): Promise<void> {
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) {
      const sb = this.sandboxes.get(id);
      if (!sb) continue;
      try {
        await applyLbRules(sb.netns, sandboxVips(sb.nets, this.state));
      } catch (err) {
        // the container ended meanwhile: its namespace is gone, and so is the need
        this.log.warn('overlay: could not write VIP rules', { container: id, error: (err as Error).message });
      }
    }
  }
}
