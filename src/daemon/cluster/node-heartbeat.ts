/**
 * A node's liveness in the store: a lease (TTL 10 s, renewed every third of
 * it by the store) with the node's heartbeat key bound to it. While the
 * daemon runs and reaches etcd the key lives and the node reads as Ready;
 * when the daemon dies or is cut off, etcd deletes the key after the TTL and
 * the node reads as Down. A lease lost anyway (expired during an outage,
 * revoked by `node rm --force`) is granted again and the key rebound.
 *
 *   const hb = new NodeHeartbeat(store, nodeId);
 *   await hb.startNow();        // first beat written before returning (init, join)
 *   hb.startInBackground();     // or: retry until etcd answers (daemon start)
 *   hb.stop();                  // stops renewing; the key expires with its lease
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyValueStore, Lease, Leases } from './store.js';
import { heartbeatKey, NODE_LEASE_TTL_SECONDS } from './swarm-objects.js';


export class NodeHeartbeat {
  private readonly ctl = new AbortController();
  /** The last failure to beat, '' once beating ('Info.Swarm.Error'). */
  lastError = '';

  constructor(
    private readonly store: Leases & Pick<KeyValueStore, 'put'>,
    private readonly nodeId: string,
    private readonly o: { ttlSeconds?: number; retryMs?: number } = {},
  ) {}

  private async beatOnce(): Promise<Lease> {
    const lease = await this.store.grantLease(this.o.ttlSeconds ?? NODE_LEASE_TTL_SECONDS);
    await this.store.put(heartbeatKey(this.nodeId), new Date().toISOString(), { lease: lease.id });
    return lease;
  }

  /** Writes the first beat (rejecting if it cannot), then keeps beating. */
  async startNow(): Promise<void> {
    void this.run(await this.beatOnce());
  }

  /** Keeps beating, retrying until the store answers. */
  startInBackground(): void {
    void this.run(undefined);
  }

  stop(): void {
    this.ctl.abort();
  }

  private async run(first: Lease | undefined): Promise<void> {
    const signal = this.ctl.signal;
    let lease = first;
    while (!signal.aborted) {
      try {
        lease ??= await this.beatOnce();
        this.lastError = '';
        const held = lease;
        await new Promise<void>((resolve) => {
          held.onLost(() => resolve());
          signal.addEventListener('abort', () => { held.release(); resolve(); }, { once: true });
        });
      } catch (err) {
        if (!signal.aborted) this.lastError = (err as Error).message;
        await sleep(this.o.retryMs ?? 1000);
      }
      lease = undefined;
    }
  }
}
