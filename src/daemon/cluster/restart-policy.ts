/**
 * A service's RestartPolicy as the orchestrator applies it (swarmkit's
 * restart supervisor): whether a task that ended is replaced, and from
 * when the replacement may start. Pure.
 *
 * The slot's restart count travels with its tasks: a replacement carries
 * the times of the restarts that led to it (`restarts`, newest last, at
 * most MaxAttempts of them), written in the transaction that creates it.
 * So MaxAttempts holds however few tasks the history limit keeps.
 *
 *   restartAt(s, failed, now)   → 'never' | ms since epoch (end of Delay)
 *   restartsAfter(s, failed, now) → the replacement's `restarts`
 */
import type { ServiceRecord, TaskRecord } from './service-records.js';

const NS_PER_MS = 1_000_000;
const DEFAULT_RESTART_DELAY_MS = 5000;

/** Ended on its own (not shut down by the managers): the restart policy decides. */
export const endedByItself = (t: TaskRecord): boolean => ['complete', 'failed', 'rejected'].includes(t.status.state);

export function restartAt(s: ServiceRecord, t: TaskRecord, now: number): 'never' | number {
  const p = s.spec.TaskTemplate?.RestartPolicy ?? {};
  const condition = p.Condition ?? 'any';
  if (condition === 'none') return 'never';
  if (condition === 'on-failure' && t.status.state === 'complete') return 'never';
  if (p.MaxAttempts) {
    const windowMs = (p.Window ?? 0) / NS_PER_MS;
    const recent = (t.restarts ?? []).filter((at) => !windowMs || Date.parse(at) >= now - windowMs);
    if (recent.length >= p.MaxAttempts) return 'never';
  }
  const delay = p.Delay !== undefined ? p.Delay / NS_PER_MS : DEFAULT_RESTART_DELAY_MS;
  return Date.parse(t.status.timestamp) + delay;
}

export function restartsAfter(s: ServiceRecord, t: TaskRecord, now: number): string[] {
  const keep = Math.max(1, s.spec.TaskTemplate?.RestartPolicy?.MaxAttempts ?? 0);
  return [...(t.restarts ?? []), new Date(now).toISOString()].slice(-keep);
}
