/**
 * Restart policies, decided by the daemon as Docker does (moby
 * restartmanager): no, always, unless-stopped, on-failure[:N], with a
 * backoff that starts at 100 ms, doubles, caps at one minute and resets
 * after 10 s of running. Pure.
 */
import type { RestartPolicy } from '../../api/types/index.js';

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
export const BACKOFF_RESET_AFTER_MS = 10_000;

export interface ExitFacts {
  exitCode: number;
  restartCount: number;
  /** A user stopped or killed it (docker stop/kill/rm -f). */
  manuallyStopped: boolean;
  /** The daemon itself is stopping it (shutdown). */
  daemonStopping: boolean;
}

/** Should the container be started again after this exit? */
export function shouldRestart(policy: RestartPolicy | undefined, f: ExitFacts): boolean {
  if (!policy || f.manuallyStopped || f.daemonStopping) return false;
  switch (policy.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return f.exitCode !== 0 && (policy.MaximumRetryCount === 0 || f.restartCount < policy.MaximumRetryCount);
    default:
      return false;
  }
}

/** At daemon start: which stopped containers come back (moby's ShouldRestart at restore). */
export function restartsOnDaemonStart(policy: RestartPolicy | undefined, exitCode: number, manuallyStopped: boolean, restartCount: number): boolean {
  if (!policy) return false;
  switch (policy.Name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !manuallyStopped;
    case 'on-failure':
      return !manuallyStopped && exitCode !== 0 && (policy.MaximumRetryCount === 0 || restartCount < policy.MaximumRetryCount);
    default:
      return false;
  }
}

/** The next delay: doubled from the last, or reset when the last run lasted long enough. */
export function nextBackoff(previousMs: number, ranForMs: number): number {
  if (ranForMs >= BACKOFF_RESET_AFTER_MS || previousMs === 0) return BACKOFF_START_MS;
  return Math.min(previousMs * 2, BACKOFF_MAX_MS);
}
