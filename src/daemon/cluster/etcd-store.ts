/**
 * `ClusterStore` over etcd 3.4, through the `etcd3` npm package.
 *
 * Why `etcd3` and not our own client on `@grpc/grpc-js` + etcd's protos:
 * it is pure JS (no install script, no binary download), works on Node 20
 * with TLS client certificates, and is small: it adds three packages
 * (etcd3, cockatiel, bignumber.js) on top of @grpc/grpc-js and
 * @grpc/proto-loader, which the tree already had through dockerode. It
 * ships etcd's protos and, above all, the two parts a minimal client would
 * have to get right by hand: a watch manager that multiplexes watches on one
 * stream and resumes each from its last revision after a reconnect, and
 * lease keep-alive streams. We use it narrowly: the raw KV RPCs for
 * reads, writes and transactions (so the compare is exactly modRevision),
 * its watcher and lease objects, and the Cluster RPCs.
 *
 * Failure policy: every unary call has one deadline (`requestTimeoutMs`,
 * default 5 s) covering the library's retries and host fail-over, after
 * which it rejects with `StoreUnavailable`; with quorum lost, a write is
 * refused within that time, it never hangs. A retry goes to another
 * endpoint, so one dead member costs one failed attempt at most. Watch and
 * lease keep-alive streams require a leader, so a member cut off from the
 * others ends them (the watch reconnects and resumes) instead of going silent.
 */
import { readFileSync } from 'node:fs';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Etcd3, EtcdLeaseInvalidError, GRPCCancelledError, GRPCUnavailableError, isRecoverableError, type IKeyValue, type IRequestOp, type Lease as EtcdLease, type Watcher } from 'etcd3';
import { circuitBreaker, ConsecutiveBreaker, ConstantBackoff, ExponentialBackoff, handleWhen, noop, retry, type IBackoff } from 'cockatiel';
import {
  LeaseNotFound,
  StoreCompacted,
  StoreUnavailable,
  type ClusterStore,
  type KeyValue,
  type Lease,
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

export interface EtcdStoreOptions {
  /** Client URLs of the members, https://host:port. */
  endpoints: string[];
  /** PEM files: the cluster CA and this node's client certificate and key. */
  tls: { caFile: string; certFile: string; keyFile: string };
  /** One deadline for each request, retries included. Default 5000 ms. */
  requestTimeoutMs?: number;
}

const enc = (s: string) => Buffer.from(s, 'utf8');

/** The end of the key range `prefix*` (etcd's "prefix end"): the prefix with its last byte < 0xff incremented. */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every key
}

function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    ...(kv.lease && kv.lease !== '0' ? { lease: String(kv.lease) } : {}),
  };
}

function toRequestOp(op: TxnOp): IRequestOp {
  if ('put' in op) return { request_put: { key: enc(op.put), value: enc(op.value), ...(op.lease ? { lease: op.lease } : {}) } };
  if ('delete' in op) return { request_delete_range: { key: enc(op.delete) } };
  const key = enc(op.deletePrefix);
  return { request_delete_range: { key, range_end: prefixRangeEnd(key) } };
}

/**
 * Failures that say "try another member": etcd3's recoverable errors plus
 * UNAVAILABLE (a member that is down), but not CANCELLED, which is also
 * what our own watch cancellations look like, nor etcd's "unhealthy
 * cluster" answer to a member add, which every member gives alike.
 */
function hostFailure(err: Error): boolean {
  if (err instanceof GRPCCancelledError || /unhealthy cluster/.test(err.message)) return false; // not the host's fault
  return isRecoverableError(err) || err instanceof GRPCUnavailableError;
}

/**
 * Asks etcd to end a watch or keep-alive stream when its member has no
 * leader (cut off from the others), as etcd's Go client does with
 * WithRequireLeader: otherwise a member in a minority keeps the stream
 * open and silent, and its watchers would act on a stale view.
 */
const requireLeader: Interceptor = (options, next) =>
  new InterceptingCall(next(options), {
    start(metadata, listener, start) {
      metadata.set('hasleader', 'true'); // rpctypes.MetadataRequireLeaderKey / MetadataHasLeader
      start(metadata, listener);
    },
  });

function isLeaseNotFound(err: unknown): boolean {
  // etcd3's own error for a keep-alive answered with TTL 0, or etcd's rpctypes.ErrLeaseNotFound
  return err instanceof EtcdLeaseInvalidError || (err instanceof Error && /requested lease not found/.test(err.message));
}

export class EtcdStore implements ClusterStore {
  private readonly client: Etcd3;
  private readonly timeoutMs: number;
  private readonly endpoints: string;
  private readonly endpointCount: number;

  constructor(o: EtcdStoreOptions) {
    this.timeoutMs = o.requestTimeoutMs ?? 5000;
    this.endpoints = o.endpoints.join(',');
    this.endpointCount = o.endpoints.length;
    const deadline = this.timeoutMs;
    this.client = new Etcd3({
      hosts: o.endpoints,
      credentials: { rootCertificate: readFileSync(o.tls.caFile), certChain: readFileSync(o.tls.certFile), privateKey: readFileSync(o.tls.keyFile) },
      dialTimeout: deadline,
      // A member cut off mid-stream (its link down, no RST) would leave every stream to it silent until
      // the lease's TTL ran out; HTTP/2 pings find the dead link in 7 s at most and fail its streams over.
      // 5 s is etcd's least ping interval (--grpc-keepalive-min-time); no pings while nothing is open.
      ...(o.endpoints.length > 1 ? { grpcOptions: { 'grpc.keepalive_time_ms': 5000, 'grpc.keepalive_timeout_ms': 2000 } } : {}),
      defaultCallOptions: (ctx) => (!ctx.isStream ? { deadline: Date.now() + deadline } : ctx.service === 'Watch' || ctx.method === 'leaseKeepAlive' ? { interceptors: [requireLeader] } : {}),
      faultHandling: {
        // A host failing twice in a row is skipped for 2 s; a call it refused is retried on another after 100 ms.
        // With one endpoint there is no other to try: a breaker would only keep failing calls for 2 s
        // after the member is back (a manager whose etcd just restarted answered 503s).
        host: () => (o.endpoints.length > 1 ? circuitBreaker(handleWhen(hostFailure), { halfOpenAfter: 2000, breaker: new ConsecutiveBreaker(2) }) : noop),
        // Only UNAVAILABLE (the member is down or unreachable) is retried: after a deadline or an
        // internal error a write may have landed, and a retried compare would then report a loss.
        global: retry(handleWhen((e) => e instanceof GRPCUnavailableError && hostFailure(e)), { maxAttempts: 3, backoff: new ConstantBackoff(100) }),
        // etcd3 calls .next() on it first: it wants the factory, whatever its .d.ts says.
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) as unknown as IBackoff<unknown>,
      },
    });
  }

  /** Runs one request under the store's deadline; a timeout or an unreachable cluster becomes StoreUnavailable. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailable(`cluster store: no answer to ${what} within ${this.timeoutMs} ms from ${this.endpoints} (etcd down or quorum lost)`)), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      if (err instanceof StoreUnavailable || err instanceof LeaseNotFound) throw err;
      if (hostFailure(err as Error) || /deadline|unavailable|timed out|no leader|circuit/i.test((err as Error).message)) {
        throw new StoreUnavailable(`cluster store: ${what} failed on ${this.endpoints} (etcd down or quorum lost): ${(err as Error).message}`, { cause: err });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const r = await this.call(`get ${key}`, () => this.client.kv.range({ key: enc(key) }));
    return r.kvs[0] && toKeyValue(r.kvs[0]);
  }

  async list(prefix: string): Promise<ListResult> {
    const key = enc(prefix);
    const r = await this.call(`list ${prefix}`, () => this.client.kv.range({ key, range_end: prefixRangeEnd(key), sort_order: 'Ascend', sort_target: 'Key' }));
    return { items: r.kvs.map(toKeyValue), revision: Number(r.header.revision) };
  }

  async put(key: string, value: string, opts: PutOptions = {}): Promise<number> {
    try {
      const r = await this.call(`put ${key}`, () => this.client.kv.put({ key: enc(key), value: enc(value), ...(opts.lease ? { lease: opts.lease } : {}) }));
      return Number(r.header.revision);
    } catch (err) {
      if (opts.lease && isLeaseNotFound(err)) throw new LeaseNotFound(opts.lease);
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    const r = await this.call(`delete ${key}`, () => this.client.kv.deleteRange({ key: enc(key) }));
    return Number(r.deleted) > 0;
  }

  async deletePrefix(prefix: string): Promise<number> {
    const key = enc(prefix);
    const r = await this.call(`delete ${prefix}*`, () => this.client.kv.deleteRange({ key, range_end: prefixRangeEnd(key) }));
    return Number(r.deleted);
  }

  async txn(t: Txn): Promise<TxnResult> {
    const r = await this.call('transaction', () =>
      this.client.kv.txn({
        compare: t.compare.map((c) => ({ key: enc(c.key), target: 'Mod', result: 'Equal', mod_revision: c.modRevision })),
        success: t.success.map(toRequestOp),
        failure: (t.failure ?? []).map(toRequestOp),
      }),
    );
    return { succeeded: r.succeeded, revision: Number(r.header.revision) };
  }

  async compact(revision: number): Promise<void> {
    await this.call(`compact to ${revision}`, () => this.client.kv.compact({ revision }));
  }

  async *watch(prefix: string, opts: WatchOptions = {}): AsyncIterable<WatchEvent> {
    const queue: WatchEvent[] = [];
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    let b = this.client.watch().prefix(prefix);
    if (opts.fromRevision !== undefined) b = b.startRevision(String(opts.fromRevision));
    const watcher: Watcher = b.watcher();
    watcher.on('data', (res) => {
      for (const e of res.events) {
        const kv = toKeyValue(e.kv);
        queue.push({ type: e.type === 'Delete' ? 'delete' : 'put', key: kv.key, value: e.type === 'Delete' ? '' : kv.value, modRevision: kv.modRevision });
      }
      notify();
    });
    watcher.on('error', (err: Error) => {
      failure = err; // the server cancelled the watch: it is gone, nothing to cancel
      notify();
    });
    let connected = true;
    watcher.on('disconnected', (err: Error) => {
      if (connected) opts.onConnection?.((connected = false), err);
    });
    watcher.on('connected', () => {
      if (!connected) opts.onConnection?.((connected = true));
    });
    const onAbort = () => notify();
    opts.signal?.addEventListener('abort', onAbort);
    try {
      while (!opts.signal?.aborted) {
        while (queue.length && !opts.signal?.aborted) yield queue.shift()!;
        if (failure) throw await this.watchFailure(prefix, opts.fromRevision, failure);
        if (opts.signal?.aborted) break;
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (!failure) await Promise.race([watcher.cancel().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
  }

  /**
   * Why etcd cancelled a watch. etcd3 reports a cancel as "Watcher canceled:
   * <reason>" and drops its compact_revision (etcd 3.4 sends no reason for a
   * compaction), so ask: a read at the start revision fails if it is compacted.
   */
  private async watchFailure(prefix: string, fromRevision: number | undefined, err: Error): Promise<Error> {
    if (fromRevision === undefined) return err;
    try {
      await this.call('watch check', () => this.client.kv.range({ key: enc(prefix), revision: fromRevision, keys_only: true, limit: 1 }));
      return err;
    } catch (e) {
      return /compacted/.test((e as Error).message) ? new StoreCompacted() : err;
    }
  }

  async grantLease(ttlSeconds: number, opts: LeaseOptions = {}): Promise<Lease> {
    const lease: EtcdLease = this.client.lease(ttlSeconds, { autoKeepAlive: opts.keepAlive ?? true });
    lease.on('lost', () => {}); // reported through onLost
    if ((opts.keepAlive ?? true) && this.endpointCount > 1) this.rescueStalledKeepAlives(lease);
    const id = await this.call('lease grant', () => lease.grant());
    return {
      id,
      ttlSeconds,
      keepAliveOnce: async () => {
        try {
          await this.call(`lease ${id} keep-alive`, () => lease.keepaliveOnce());
        } catch (err) {
          if (isLeaseNotFound(err) || lease.revoked()) throw new LeaseNotFound(id);
          throw err;
        }
      },
      revoke: () => this.call(`lease ${id} revoke`, () => lease.revoke()),
      release: () => lease.release(),
      // etcd3 reports a loss when a keep-alive finds the lease gone, or when it could not renew for longer than the TTL.
      onLost: (fn) => {
        lease.on('lost', (err: Error) => fn(Object.assign(new LeaseNotFound(id), { cause: err })));
      },
    };
  }

  /**
   * etcd3 keeps a lease alive on one stream, to one member, and notices a
   * silent member only after a whole TTL, when the lease has expired with
   * it. A renewal unanswered within 1.5 s is made again here, by one-off
   * keep-alives with their own deadline, each on a member picked anew, until
   * one answers: the lease lives while any member of the quorum is reached.
   */
  private rescueStalledKeepAlives(lease: EtcdLease): void {
    let watchdog: NodeJS.Timeout | undefined;
    const rescue = async () => {
      for (let attempt = 0; attempt < 5 && !lease.revoked(); attempt++) {
        try {
          await lease.keepaliveOnce({ deadline: Date.now() + 1500 });
          return;
        } catch (err) {
          if (isLeaseNotFound(err)) return; // lost: etcd3 has told its listeners
        }
      }
    };
    lease.on('keepaliveFired', () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => void rescue(), 1500).unref();
    });
    lease.on('keepaliveSucceeded', () => clearTimeout(watchdog));
    lease.on('lost', () => clearTimeout(watchdog));
  }

  async revokeLease(id: string): Promise<void> {
    try {
      await this.call(`lease ${id} revoke`, () => this.client.leaseClient.leaseRevoke({ ID: id }));
    } catch (err) {
      if (isLeaseNotFound(err)) throw new LeaseNotFound(id);
      throw err;
    }
  }

  async listMembers(): Promise<Member[]> {
    const r = await this.call('member list', () => this.client.cluster.memberList({}));
    return r.members.map((m) => ({ id: String(m.ID), name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs }));
  }

  /**
   * etcd refuses a member add or remove ("unhealthy cluster") unless the
   * members that stay have been connected for 5 s, so one right after a
   * join or a restart is retried for up to `reconfigWaitMs` (default 20 s).
   */
  async addMember(peerUrls: string[], reconfigWaitMs = 20_000): Promise<{ member: Member; members: Member[] }> {
    const r = await this.reconfigure(`add ${peerUrls.join(',')}`, reconfigWaitMs, () => this.client.cluster.memberAdd({ peerURLs: peerUrls }));
    const conv = (m: (typeof r.members)[number]): Member => ({ id: String(m.ID), name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs ?? [] });
    return { member: conv(r.member), members: r.members.map(conv) };
  }

  async removeMember(id: string, reconfigWaitMs = 20_000): Promise<void> {
    await this.reconfigure(`remove ${id}`, reconfigWaitMs, () => this.client.cluster.memberRemove({ ID: id }));
  }

  private async reconfigure<T>(what: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        return await this.call(`member ${what}`, fn);
      } catch (err) {
        if (!/unhealthy cluster/.test((err as Error).message)) throw err;
        if (Date.now() > deadline) {
          throw new StoreUnavailable(`cluster store: etcd refused to ${what} for ${waitMs} ms: not every member has been up and connected for 5 s (a member is down or joined just now)`, { cause: err });
        }
        await new Promise((res) => setTimeout(res, 500));
      }
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
