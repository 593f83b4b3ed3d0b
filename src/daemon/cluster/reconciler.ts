/**
 * The leader's loop: watch the swarm's keys, wait for a quiet moment
 * (debounce), read everything, orchestrate, then schedule, and write each
 * decision as a transaction on the revisions read. A transaction that loses
 * (another manager, a user's update, an agent's status) is simply decided
 * again on the next pass, from a fresh read.
 *
 *   const r = new Reconciler(store, { log });
 *   leadership.onChange((leading) => leading ? r.start() : void r.stop());
 *
 * Stepping down: stop() aborts the watch and waits for the pass in flight,
 * so no write of this manager lands after it returns (a write already sent
 * may still be applied: it was a valid decision on what it read).
 */
import { newSwarmId } from './ids.js';
import { orchestrate, type ServicePlan } from './orchestrator.js';
import { schedule } from './scheduler.js';
import { readSnapshot } from './cluster-snapshot.js';
import { serviceKey, serviceLockKey, taskKey } from './service-records.js';
import type { ClusterStore, Compare, TxnOp } from './store.js';
import { SWARM_PREFIX } from './swarm-objects.js';
import { sleepUnlessAborted } from '../../lib/abortable-sleep.js';

export interface ReconcilerOptions {
  log: (msg: string, f?: Record<string, unknown>) => void;
  debounceMs?: number;
  /** A pass runs at least this often even without events (a watch cut off must not stall the swarm). */
  tickMs?: number;
  now?: () => number;
}

export class Reconciler {
  private ctl: AbortController | undefined;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private dirty = true;

  constructor(private readonly store: Pick<ClusterStore, 'get' | 'list' | 'txn' | 'watch'>, private readonly o: ReconcilerOptions) {}

  start(): void {
    if (this.ctl) return;
    const ctl = new AbortController();
    this.ctl = ctl;
    this.dirty = true;
    void this.watchLoop(ctl.signal);
    this.running = this.loop(ctl.signal);
  }

  async stop(): Promise<void> {
    this.ctl?.abort();
    this.ctl = undefined;
    this.wake?.();
    await this.running?.catch(() => {});
    this.running = undefined;
  }

  private kick(): void {
    this.dirty = true;
    this.wake?.();
  }

  private async watchLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const e of this.store.watch(SWARM_PREFIX, { signal })) {
          void e;
          this.kick();
        }
      } catch (err) {
        if (signal.aborted) return;
        this.o.log('orchestrator: watch failed; watching again', { error: (err as Error).message });
      }
      // ended or failed: watch again after a pause (never a tight loop), and look at everything once
      await sleepUnlessAborted(1000, signal);
      this.kick();
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const tick = this.o.tickMs ?? 3000;
    let wakeAt: number | undefined;
    while (!signal.aborted) {
      const now = this.now();
      const wait = this.dirty ? (this.o.debounceMs ?? 100) : Math.max(0, Math.min(tick, wakeAt !== undefined ? wakeAt - now : tick));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wake = () => { clearTimeout(t); if (!this.dirty || signal.aborted) resolve(); else setTimeout(resolve, this.o.debounceMs ?? 100); };
      });
      this.wake = undefined;
      if (signal.aborted) return;
      this.dirty = false;
      try {
        wakeAt = await this.pass();
      } catch (err) {
        this.o.log('orchestrator: pass failed; retrying', { error: (err as Error).message });
        await sleepUnlessAborted(1000, signal);
        this.dirty = true;
      }
    }
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** One read, one decision, its writes. Returns when a restart delay ends. */
  async pass(): Promise<number | undefined> {
    const snap = await readSnapshot(this.store);
    const { plans, wakeAt } = orchestrate({ ...snap, now: this.now(), newId: () => newSwarmId() });
    if (plans.length) {
      for (const p of plans) await this.writePlan(p, snap.locks.get(p.serviceId) ?? 0);
      // the writes come back through the watch: schedule on that fresh read
      this.dirty = true;
      return wakeAt;
    }
    for (const a of schedule({ tasks: snap.tasks, nodes: snap.nodes, now: this.now() })) {
      const r = await this.store.txn({
        compare: [{ key: taskKey(a.record.id), modRevision: a.modRevision }],
        success: [{ put: taskKey(a.record.id), value: JSON.stringify(a.record) }],
      });
      if (!r.succeeded) this.dirty = true;
    }
    return wakeAt;
  }

  private async writePlan(p: ServicePlan, lockRevision: number): Promise<void> {
    const compare: Compare[] = [];
    const success: TxnOp[] = [];
    if (p.serviceRevision) {
      // the service as read (a spec change in between: decide again) and its lock (another manager's decision in between)
      compare.push({ key: serviceKey(p.serviceId), modRevision: p.serviceRevision }, { key: serviceLockKey(p.serviceId), modRevision: lockRevision });
      success.push({ put: serviceLockKey(p.serviceId), value: String(Date.now()) });
      if (p.service) success.push({ put: serviceKey(p.serviceId), value: JSON.stringify(p.service) });
    } else {
      compare.push({ key: serviceKey(p.serviceId), modRevision: 0 });
    }
    for (const t of p.creates) {
      compare.push({ key: taskKey(t.id), modRevision: 0 });
      success.push({ put: taskKey(t.id), value: JSON.stringify(t) });
    }
    for (const u of p.updates) {
      compare.push({ key: taskKey(u.record.id), modRevision: u.modRevision });
      success.push({ put: taskKey(u.record.id), value: JSON.stringify(u.record) });
    }
    for (const d of p.deletes) {
      compare.push({ key: taskKey(d.id), modRevision: d.modRevision });
      success.push({ delete: taskKey(d.id) });
    }
    const r = await this.store.txn({ compare, success });
    if (!r.succeeded) this.dirty = true;
  }
}

