/**
 * An in-memory `ClusterStore` for unit tests of pure cluster logic: the same
 * revisions, transactions, prefix watches and leases as etcd, in one
 * process, with a clock the test can drive (`expireLeases()` / real timers).
 * Membership is a plain list (no raft): add/remove just edit it.
 *
 * It keeps every change in a log so a watch can start from any past
 * revision; `compact(rev)` drops the log below `rev` to test `StoreCompacted`.
 */
import {
  LeaseNotFound,
  StoreCompacted,
  type ClusterStore,
  type KeyValue,
  type Lease,
  type LeaseId,
  type LeaseOptions,
  type ListResult,
  type Member,
  type PutOptions,
  type Txn,
  type TxnOp,
  type TxnResult,
  type WatchEvent,
  type WatchOptions,
} from './store.js';

interface LeaseState {
  ttlSeconds: number;
  expiresAt: number;
  keys: Set<string>;
  timer?: NodeJS.Timeout;
  lost: ((err: Error) => void)[];
}

export class MemoryStore implements ClusterStore {
  private revision = 1;
  private readonly data = new Map<string, KeyValue>();
  private readonly log: WatchEvent[] = [];
  private compactedBelow = 0;
  private readonly listeners = new Set<() => void>();
  private readonly leases = new Map<LeaseId, LeaseState>();
  private nextLease = 0x1000;
  private readonly members: Member[] = [{ id: '1', name: 'default', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'] }];
  private nextMember = 2;
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.expireLeases(), 100);
    this.sweeper.unref();
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const kv = this.data.get(key);
    return kv && { ...kv };
  }

  async list(prefix: string): Promise<ListResult> {
    const items = [...this.data.values()].filter((kv) => kv.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items: items.map((kv) => ({ ...kv })), revision: this.revision };
  }

  async put(key: string, value: string, opts: PutOptions = {}): Promise<number> {
    this.commit([{ put: key, value, ...(opts.lease ? { lease: opts.lease } : {}) }]);
    return this.revision;
  }

  async delete(key: string): Promise<boolean> {
    const had = this.data.has(key);
    this.commit([{ delete: key }]);
    return had;
  }

  async deletePrefix(prefix: string): Promise<number> {
    const n = [...this.data.keys()].filter((k) => k.startsWith(prefix)).length;
    this.commit([{ deletePrefix: prefix }]);
    return n;
  }

  async txn(t: Txn): Promise<TxnResult> {
    const ok = t.compare.every((c) => (this.data.get(c.key)?.modRevision ?? 0) === c.modRevision);
    this.commit(ok ? t.success : (t.failure ?? []));
    return { succeeded: ok, revision: this.revision };
  }

  /** Applies ops atomically as one revision (none if nothing changes). */
  private commit(ops: TxnOp[]): void {
    for (const op of ops) if ('put' in op && op.lease && !this.leases.has(op.lease)) throw new LeaseNotFound(op.lease);
    const rev = this.revision + 1;
    const events: WatchEvent[] = [];
    const remove = (key: string) => {
      const old = this.data.get(key);
      if (!old) return;
      this.data.delete(key);
      if (old.lease) this.leases.get(old.lease)?.keys.delete(key);
      events.push({ type: 'delete', key, value: '', modRevision: rev });
    };
    for (const op of ops) {
      if ('put' in op) {
        const old = this.data.get(op.put);
        if (old?.lease) this.leases.get(old.lease)?.keys.delete(op.put);
        const kv: KeyValue = {
          key: op.put,
          value: op.value,
          createRevision: old?.createRevision ?? rev,
          modRevision: rev,
          version: (old?.version ?? 0) + 1,
          ...(op.lease ? { lease: op.lease } : {}),
        };
        this.data.set(op.put, kv);
        if (op.lease) this.leases.get(op.lease)!.keys.add(op.put);
        events.push({ type: 'put', key: op.put, value: op.value, modRevision: rev });
      } else if ('delete' in op) {
        remove(op.delete);
      } else {
        for (const k of [...this.data.keys()]) if (k.startsWith(op.deletePrefix)) remove(k);
      }
    }
    if (events.length === 0) return;
    this.revision = rev;
    this.log.push(...events);
    for (const l of this.listeners) l();
  }

  /** Forgets the change log below `revision`: watches from before it get `StoreCompacted`. */
  async compact(revision: number): Promise<void> {
    this.compactedBelow = revision;
    while (this.log.length && this.log[0]!.modRevision < revision) this.log.shift();
  }

  async *watch(prefix: string, opts: WatchOptions = {}): AsyncIterable<WatchEvent> {
    let next = opts.fromRevision ?? this.revision + 1;
    if (next < this.compactedBelow) throw new StoreCompacted(this.compactedBelow);
    let wake: (() => void) | undefined;
    const listener = () => wake?.();
    const onAbort = () => wake?.();
    this.listeners.add(listener);
    opts.signal?.addEventListener('abort', onAbort);
    try {
      while (!opts.signal?.aborted && !this.closed) {
        const upto = this.revision;
        const batch = this.log.filter((e) => e.modRevision >= next && e.modRevision <= upto && e.key.startsWith(prefix));
        for (const e of batch) {
          if (opts.signal?.aborted) return;
          yield { ...e };
        }
        next = upto + 1;
        if (this.revision > upto) continue; // written while the consumer held an event
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    } finally {
      this.listeners.delete(listener);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async grantLease(ttlSeconds: number, opts: LeaseOptions = {}): Promise<Lease> {
    const id = String(this.nextLease++);
    const state: LeaseState = { ttlSeconds, expiresAt: Date.now() + ttlSeconds * 1000, keys: new Set(), lost: [] };
    this.leases.set(id, state);
    const renew = () => {
      const s = this.leases.get(id);
      if (!s) throw new LeaseNotFound(id);
      s.expiresAt = Date.now() + s.ttlSeconds * 1000;
    };
    if (opts.keepAlive ?? true) {
      state.timer = setInterval(() => {
        try {
          renew();
        } catch (err) {
          clearInterval(state.timer);
          for (const fn of state.lost) fn(err as Error);
        }
      }, (ttlSeconds * 1000) / 3);
      state.timer.unref();
    }
    return {
      id,
      ttlSeconds,
      keepAliveOnce: async () => renew(),
      revoke: async () => this.dropLease(id),
      release: () => clearInterval(state.timer),
      onLost: (fn) => state.lost.push(fn),
    };
  }

  /** Drops every lease past its TTL and its keys (runs by itself every 100 ms). */
  expireLeases(now = Date.now()): void {
    for (const [id, s] of this.leases) if (s.expiresAt <= now) this.dropLease(id);
  }

  async revokeLease(id: LeaseId): Promise<void> {
    const s = this.leases.get(id);
    if (!s) throw new LeaseNotFound(id);
    this.dropLease(id);
    if (s.timer) setImmediate(() => s.lost.forEach((fn) => fn(new LeaseNotFound(id)))); // its holder finds out at its next renewal
  }

  private dropLease(id: LeaseId): void {
    const s = this.leases.get(id);
    if (!s) return;
    clearInterval(s.timer);
    this.commit([...s.keys].map((k) => ({ delete: k })));
    this.leases.delete(id);
  }

  async listMembers(): Promise<Member[]> {
    return this.members.map((m) => ({ ...m }));
  }

  async addMember(peerUrls: string[]): Promise<{ member: Member; members: Member[] }> {
    const member: Member = { id: String(this.nextMember++), name: '', peerUrls, clientUrls: [] };
    this.members.push(member);
    return { member: { ...member }, members: await this.listMembers() };
  }

  async removeMember(id: string): Promise<void> {
    const i = this.members.findIndex((m) => m.id === id);
    if (i >= 0) this.members.splice(i, 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const s of this.leases.values()) clearInterval(s.timer);
    for (const l of this.listeners) l();
  }
}
