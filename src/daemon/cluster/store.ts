/**
 * The cluster store: the one place cluster code reads and writes shared
 * state. Swarm state lives in etcd; everything above this file sees only
 * these interfaces, split by role so a consumer asks for what it uses
 * (a scheduler takes a `KeyValueStore`, the agent's heartbeat a `Leases`).
 * Implementations: `EtcdStore` (etcd-store.ts, the real one) and
 * `MemoryStore` (memory-store.ts, for unit tests of pure cluster logic).
 * Both pass the suite in conformance.ts.
 *
 * Revisions are etcd's: one counter for the whole store, bumped by every
 * write (a transaction is one revision). A key's `modRevision` is the
 * revision of its last write; `createRevision` of its creation. Every
 * decision that depends on a read is a transaction comparing the read
 * keys' `modRevision`s, so two managers racing never both win:
 *
 *   const svc = await kv.get('/svc/web');
 *   const r = await kv.txn({
 *     compare: [{ key: '/svc/web', modRevision: svc?.modRevision ?? 0 }], // 0: key must not exist
 *     success: [{ put: '/tasks/web.1', value: JSON.stringify(task) }],
 *   });
 *   if (!r.succeeded) ...re-read and decide again
 *
 * Readers list a prefix, then watch it from `list().revision + 1`: they see
 * every change after their snapshot, in order, with no gap and no polling.
 *
 * Liveness is a lease: a node grants one (TTL seconds), writes its node key
 * with it and keeps it alive; when the node stops renewing, etcd deletes
 * the key and every watcher sees the delete.
 *
 * Failures: a store that cannot answer (no quorum, every member down)
 * rejects with `StoreUnavailable` after its request timeout, never hangs.
 * A watch from a revision already compacted away rejects with
 * `StoreCompacted`; the reader lists again and watches from there.
 */
import { Conflict, Unavailable } from '../../errdefs/index.js';

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  /** Writes since creation (1 after the first put). */
  version: number;
  /** The lease the key is bound to, or undefined. */
  lease?: LeaseId;
}

/** etcd lease ids are int64: kept as decimal strings, never as numbers. */
export type LeaseId = string;

export interface PutOptions {
  /** Bind the key to this lease: it goes when the lease expires or is revoked. */
  lease?: LeaseId;
}

/** Compare a key's modRevision; `modRevision: 0` means "the key does not exist". */
export interface Compare {
  key: string;
  modRevision: number;
}

export type TxnOp = { put: string; value: string; lease?: LeaseId } | { delete: string } | { deletePrefix: string };

export interface Txn {
  /** All must hold (a conjunction) for `success` to run; otherwise `failure` runs. */
  compare: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

export interface TxnResult {
  succeeded: boolean;
  /** The store's revision after the transaction (unchanged if it wrote nothing). */
  revision: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The store's revision the list was read at: watch from `revision + 1`. */
  revision: number;
}

/** Reads and writes by key and prefix, and transactions. */
export interface KeyValueStore {
  get(key: string): Promise<KeyValue | undefined>;
  /** Keys under `prefix`, sorted by key, and the revision they were read at. */
  list(prefix: string): Promise<ListResult>;
  /** Returns the revision of the write. */
  put(key: string, value: string, opts?: PutOptions): Promise<number>;
  /** Returns whether the key existed. */
  delete(key: string): Promise<boolean>;
  /** Returns how many keys went. */
  deletePrefix(prefix: string): Promise<number>;
  txn(t: Txn): Promise<TxnResult>;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** The new value ('' for a delete). */
  value: string;
  /** The revision of this change. */
  modRevision: number;
}

export interface WatchOptions {
  /** First revision to report (inclusive). Default: changes from now on. */
  fromRevision?: number;
  /** Aborting ends the iteration (the loop exits normally). */
  signal?: AbortSignal;
  /**
   * Told when the watch loses its stream (member down, or cut off from its
   * leader: events may be late, act on nothing that needs a fresh view) and
   * when it is back (it resumes where it stopped). The in-memory store never
   * disconnects.
   */
  onConnection?: (connected: boolean, err?: Error) => void;
}

/**
 * Changes under a prefix, in revision order, as an async iterable. The
 * implementation resumes after a lost connection from the last revision it
 * delivered, so a consumer sees every change exactly once. Breaking out of
 * the loop or aborting the signal cancels the watch.
 */
export interface Watches {
  watch(prefix: string, opts?: WatchOptions): AsyncIterable<WatchEvent>;
}

export interface Lease {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  /** Renews the lease once; rejects with `LeaseNotFound` if it already expired. */
  keepAliveOnce(): Promise<void>;
  /** Deletes the lease and every key bound to it. */
  revoke(): Promise<void>;
  /** Stops automatic renewal (if any) without revoking: the lease expires on its own. */
  release(): void;
  /** Called once, with a `LeaseNotFound`, if automatic renewal finds the lease gone (expired or revoked elsewhere). */
  onLost(fn: (err: Error) => void): void;
}

export interface LeaseOptions {
  /** Renew automatically (every third of the TTL) until released or revoked. Default true. */
  keepAlive?: boolean;
}

export interface Leases {
  grantLease(ttlSeconds: number, opts?: LeaseOptions): Promise<Lease>;
  /** Revokes someone else's lease by id (a node removed by force): its keys go, its holder's `onLost` fires. */
  revokeLease(id: LeaseId): Promise<void>;
}

export interface Member {
  /** etcd's member id (uint64, as a decimal string). */
  id: string;
  /** Empty until the member has started and joined. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

/** The store's own membership (manager nodes = etcd members). */
export interface Membership {
  listMembers(): Promise<Member[]>;
  /** Announces a member before it starts with `initial-cluster-state existing`. Returns it and the full list. */
  addMember(peerUrls: string[]): Promise<{ member: Member; members: Member[] }>;
  removeMember(id: string): Promise<void>;
}

/** History: etcd keeps every revision until compacted (members also compact on their own after an hour). */
export interface Compaction {
  /** Drops the history before `revision`: a later watch from an older revision rejects with `StoreCompacted`. */
  compact(revision: number): Promise<void>;
}

export interface ClusterStore extends KeyValueStore, Watches, Leases, Membership, Compaction {
  close(): Promise<void>;
}

/** The store did not answer in time: etcd is down or has lost quorum. */
export class StoreUnavailable extends Unavailable {
  constructor(message: string, options?: { cause?: unknown }) {
    super('swarm.store_unavailable', message, options);
  }
}

/** A watch asked for a revision the store has already compacted away. */
export class StoreCompacted extends Conflict {
  /** The oldest revision still available, when the store says. */
  constructor(readonly compactRevision?: number) {
    super('swarm.store_compacted', `cluster store: the revision asked for is compacted${compactRevision ? ` (oldest available is ${compactRevision})` : ''}; list again and watch from there`);
  }
}

/** A lease that expired or was revoked. */
export class LeaseNotFound extends Conflict {
  constructor(id: LeaseId) {
    super('swarm.lease_not_found', `cluster store: lease ${id} not found (expired or revoked)`);
  }
}

