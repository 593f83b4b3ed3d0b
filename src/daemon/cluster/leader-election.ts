/**
 * Which manager leads, decided by etcd (never by a consensus of our own).
 *
 *   /berth/swarm/leader = <node id>, bound to the holder's lease (TTL 5 s)
 *
 * Every manager campaigns: it grants a lease and writes the key in a
 * transaction that succeeds only if the key is absent (modRevision 0). The
 * winner renews its lease itself every third of the TTL and steps down when a
 * renewal has not succeeded for a whole TTL (cut off from quorum: etcd will
 * expire the key about then, and another manager will take it). The others
 * watch the key and campaign again when it is deleted, and in any case every
 * TTL (a watch cut off from its member must not leave a follower waiting
 * forever).
 *
 *   const leadership = new Leadership();
 *   leadership.onChange((leading) => leading ? orchestrator.start() : orchestrator.stop());
 *   const election = new LeaderElection(store, nodeId, leadership);
 *   await election.start();   // one campaign before returning (a lone manager leads at once)
 *   await election.stop();    // resign: the key goes now, not after the TTL
 */
import { LeaseNotFound, type ClusterStore, type Lease } from './store.js';
import { SWARM_PREFIX } from './swarm-objects.js';
import { sleepUnlessAborted } from '../../lib/abortable-sleep.js';

export const LEADER_KEY = `${SWARM_PREFIX}leader`;
export const LEADER_LEASE_TTL_SECONDS = 5;

/** What the rest of the daemon sees of leadership: a flag and its changes. Stable across elections. */
export class Leadership {
  private leading = false;
  private readonly listeners = new Set<(leading: boolean) => void>();

  get isLeader(): boolean {
    return this.leading;
  }

  /** Called with the new value each time it changes; returns an unsubscribe function. */
  onChange(fn: (leading: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** For the election only. */
  set(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    for (const fn of this.listeners) {
      try {
        fn(leading);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}

/** The current leader's node id, or undefined while there is none. */
export async function currentLeader(store: Pick<ClusterStore, 'get'>): Promise<string | undefined> {
  return (await store.get(LEADER_KEY))?.value || undefined;
}


export class LeaderElection {
  private readonly ctl = new AbortController();
  private lease: Lease | undefined;
  private loop: Promise<void> | undefined;
  private readonly ttl: number;

  constructor(
    private readonly store: Pick<ClusterStore, 'get' | 'txn' | 'watch' | 'grantLease'>,
    private readonly nodeId: string,
    private readonly leadership: Leadership,
    o: { ttlSeconds?: number; log?: (msg: string, f?: Record<string, unknown>) => void } = {},
  ) {
    this.ttl = o.ttlSeconds ?? LEADER_LEASE_TTL_SECONDS;
    this.log = o.log ?? (() => {});
  }

  private readonly log: (msg: string, f?: Record<string, unknown>) => void;

  /** Keeps campaigning in the background; `wait`: the first campaign is done before returning (errors swallowed: the loop retries). */
  async start(o: { wait?: boolean } = {}): Promise<void> {
    const won = o.wait ? await this.campaign().catch(() => false) : false;
    this.loop = this.run(won);
  }

  /** Stops campaigning; a leader resigns by revoking its lease (its key goes at once). */
  async stop(): Promise<void> {
    this.ctl.abort();
    await this.loop;
    const lease = this.lease;
    this.lease = undefined;
    this.leadership.set(false);
    await lease?.revoke().catch(() => {});
  }

  /** One attempt: true if this node now holds the key. */
  private async campaign(): Promise<boolean> {
    const lease = await this.store.grantLease(this.ttl, { keepAlive: false });
    const r = await this.store.txn({ compare: [{ key: LEADER_KEY, modRevision: 0 }], success: [{ put: LEADER_KEY, value: this.nodeId, lease: lease.id }] }).catch(async (err: unknown) => {
      await lease.revoke().catch(() => {});
      throw err;
    });
    if (!r.succeeded) {
      await lease.revoke().catch(() => {});
      return false;
    }
    this.lease = lease;
    this.leadership.set(true);
    this.log('swarm: this manager is now the leader', { node: this.nodeId });
    return true;
  }

  private async run(leading: boolean): Promise<void> {
    const signal = this.ctl.signal;
    while (!signal.aborted) {
      try {
        if (leading) await this.hold(signal);
        else await this.follow(signal);
        leading = !signal.aborted && (await this.campaign());
      } catch {
        leading = false;
        await sleepUnlessAborted(1000, signal);
      }
    }
  }

  /**
   * Renews the lease until it is lost, or not renewed for a whole TTL; then
   * steps down. The TTL is counted from when the last successful renewal was
   * sent (etcd restarted it no earlier), and a renewal that hangs does not
   * hold the step-down back: by then etcd may have given the key to another.
   */
  private async hold(signal: AbortSignal): Promise<void> {
    const lease = this.lease!;
    const ttlMs = this.ttl * 1000;
    let renewedAt = Date.now();
    while (!signal.aborted) {
      await sleepUnlessAborted(ttlMs / 3, signal);
      if (signal.aborted) return;
      const sentAt = Date.now();
      const left = renewedAt + ttlMs - sentAt;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        lease.keepAliveOnce().then(() => 'renewed' as const, (err: unknown) => (err instanceof LeaseNotFound ? ('lost' as const) : ('failed' as const))),
        new Promise<'expired'>((r) => { timer = setTimeout(() => r('expired'), Math.max(0, left)); }),
      ]);
      clearTimeout(timer);
      if (outcome === 'renewed') renewedAt = sentAt;
      else if (outcome !== 'failed' || Date.now() - renewedAt >= ttlMs) break;
    }
    if (signal.aborted) return;
    this.lease = undefined;
    this.leadership.set(false);
    this.log('swarm: this manager lost the leadership', { node: this.nodeId });
  }

  /** Waits until the key is deleted (or a TTL passes, or the key is already gone). */
  private async follow(signal: AbortSignal): Promise<void> {
    const kv = await this.store.get(LEADER_KEY);
    if (!kv) return;
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    signal.addEventListener('abort', stop, { once: true });
    const timer = setTimeout(stop, this.ttl * 1000);
    try {
      for await (const ev of this.store.watch(LEADER_KEY, { fromRevision: kv.modRevision + 1, signal: ctl.signal })) {
        if (ev.key === LEADER_KEY && ev.type === 'delete') return;
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }
}
