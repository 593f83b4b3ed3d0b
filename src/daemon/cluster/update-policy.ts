/**
 * A service's UpdateConfig / RollbackConfig as the orchestrator uses it,
 * with swarmkit's defaults (api/defaults: parallelism 1, no delay, pause on
 * failure, monitor 5 s, ratio 0, stop-first), and UpdateStatus's words.
 */
import type { ServiceRecord } from './service-records.js';

export type FailureAction = 'pause' | 'continue' | 'rollback';

export interface UpdatePolicy {
  /** 0: every slot at once. */
  parallelism: number;
  delayMs: number;
  failureAction: FailureAction;
  monitorMs: number;
  maxFailureRatio: number;
  order: 'stop-first' | 'start-first';
}

const NS_PER_MS = 1_000_000;
const DEFAULT_MONITOR_MS = 5000;

export function updatePolicy(c: Record<string, unknown> | undefined): UpdatePolicy {
  if (!c) return { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: DEFAULT_MONITOR_MS, maxFailureRatio: 0, order: 'stop-first' };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
  const action = c.FailureAction;
  return {
    parallelism: Math.floor(num(c.Parallelism)),
    delayMs: num(c.Delay) / NS_PER_MS,
    failureAction: action === 'continue' || action === 'rollback' ? action : 'pause',
    // 0 or absent: swarmkit's default monitor
    monitorMs: num(c.Monitor) ? num(c.Monitor) / NS_PER_MS : DEFAULT_MONITOR_MS,
    maxFailureRatio: num(c.MaxFailureRatio),
    order: c.Order === 'start-first' ? 'start-first' : 'stop-first',
  };
}

/** The policy of the update in progress: RollbackConfig while rolling back. */
export function activePolicy(s: ServiceRecord): UpdatePolicy {
  return updatePolicy(s.updateStatus?.state.startsWith('rollback') ? s.spec.RollbackConfig : s.spec.UpdateConfig);
}
