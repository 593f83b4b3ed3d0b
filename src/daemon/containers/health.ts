/**
 * Docker's container healthchecks (moby daemon/health.go): the probe
 * command, the rules that turn probe results into a health status, and a
 * monitor that runs the probe on a timer. The probe itself is injected, so
 * all of this runs in unit tests with a fake clock and a fake probe.
 *
 *   const m = new HealthMonitor({ config, startedAt, probe, current, onResult });
 *   m.start();   // first probe after the interval (the start interval while starting)
 *   ...          // onResult(next, changed) after each probe: `changed` → health_status event
 *   await m.stop();   // cancels the timer, aborts a running probe and waits for it
 *
 * Status rules (moby handleProbeResult): exit 0 → healthy, streak 0; any
 * other exit → streak + 1 and unhealthy at `retries` — except while still
 * `starting` inside the start period, where failures do not count.
 */
import type { ContainerHealth, HealthcheckResult } from '../../api/types/index.js';
import type { HealthConfig } from '../../oci/image.js';

export const MAX_LOG_ENTRIES = 5;
/** Longest probe output kept; longer output is cut and ends in `...`. */
export const MAX_OUTPUT_BYTES = 4096;

export interface HealthTiming {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

const NS_PER_MS = 1_000_000;

/** The config's durations (nanoseconds, 0 = default) as milliseconds with moby's defaults. */
export function healthTiming(c: HealthConfig): HealthTiming {
  const ms = (ns: number | undefined, dflt: number) => (ns ? ns / NS_PER_MS : dflt);
  return {
    intervalMs: ms(c.Interval, 30_000),
    timeoutMs: ms(c.Timeout, 30_000),
    startPeriodMs: ms(c.StartPeriod, 0),
    startIntervalMs: ms(c.StartInterval, 5_000),
    retries: c.Retries && c.Retries > 0 ? c.Retries : 3,
  };
}

/**
 * The argv a probe runs, or undefined when the container has no check
 * (no config, empty Test, NONE, or an unknown type, which moby ignores).
 * `CMD-SHELL` runs through the container's SHELL, by default `/bin/sh -c`.
 */
export function probeCommand(c: HealthConfig | undefined, shell?: string[] | null): string[] | undefined {
  const test = c?.Test ?? [];
  const [kind, ...rest] = test;
  if (rest.length === 0) return undefined;
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return [...(shell && shell.length ? shell : ['/bin/sh', '-c']), ...rest];
  return undefined;
}

/** The health a (re)started container begins with: starting, streak 0, the old log kept. */
export function startingHealth(prev: ContainerHealth | undefined): ContainerHealth {
  return { Status: 'starting', FailingStreak: 0, Log: prev?.Log ?? [] };
}

/** Applies one probe result (pure): the next health, oldest results dropped past five. */
export function applyProbeResult(
  h: ContainerHealth,
  r: HealthcheckResult,
  o: { retries: number; startPeriodMs: number; startedAt: number },
): ContainerHealth {
  const log = [...h.Log, r].slice(-MAX_LOG_ENTRIES);
  if (r.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const inStartPeriod = h.Status === 'starting' && Date.parse(r.Start) - o.startedAt < o.startPeriodMs;
  if (inStartPeriod) return { ...h, Log: log };
  const streak = h.FailingStreak + 1;
  return { Status: streak >= o.retries ? 'unhealthy' : h.Status, FailingStreak: streak, Log: log };
}

/** Probe output as moby keeps it: at most 4096 bytes, `...` when more was written. */
export class LimitedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(chunk: Buffer): void {
    const keep = Math.min(MAX_OUTPUT_BYTES - this.size, chunk.length);
    if (keep > 0) {
      this.chunks.push(keep === chunk.length ? chunk : chunk.subarray(0, keep));
      this.size += keep;
    }
    if (keep < chunk.length) this.truncated = true;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8') + (this.truncated ? '...' : '');
  }
}


/** One probe run: the probe enforces `timeoutMs` itself (exit code -1), and stops early on `signal`. */
export type Probe = (timeoutMs: number, signal: AbortSignal) => Promise<{ exitCode: number; output: string }>;

export interface HealthClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: HealthClock = {
  now: () => Date.now(),
  // unref: a pending probe never keeps the daemon alive
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface HealthMonitorOptions {
  config: HealthConfig;
  /** When the container's current run started (ms since the epoch). */
  startedAt: number;
  probe: Probe;
  /** The container's health as it is now (the monitor never keeps a copy). */
  current(): ContainerHealth;
  /** After each probe; `changed` when the status moved (Docker's health_status event). */
  onResult(next: ContainerHealth, changed: boolean): void;
  clock?: HealthClock;
}

/** Runs a container's probe on its interval until stopped; at most one probe at a time. */
export class HealthMonitor {
  private readonly timing: HealthTiming;
  private readonly clock: HealthClock;
  private timer: unknown;
  private running: { abort: AbortController; done: Promise<void> } | undefined;
  private stopped = false;

  constructor(private readonly o: HealthMonitorOptions) {
    this.timing = healthTiming(o.config);
    this.clock = o.clock ?? systemClock;
  }

  start(): void {
    if (!this.stopped && this.timer === undefined && !this.running) this.schedule();
  }

  /** Cancels the next probe, aborts a running one and resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const running = this.running;
    if (!running) return;
    running.abort.abort();
    await running.done;
  }

  /** moby's getInterval: the start interval while starting inside the start period. */
  nextDelayMs(): number {
    const t = this.timing;
    if (this.clock.now() - this.o.startedAt >= t.startPeriodMs) return t.intervalMs;
    return this.o.current().Status === 'starting' ? t.startIntervalMs : t.intervalMs;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.runOnce();
    }, this.nextDelayMs());
  }

  private runOnce(): void {
    if (this.stopped) return;
    const abort = new AbortController();
    const start = this.clock.now();
    const done = this.o.probe(this.timing.timeoutMs, abort.signal).then(
      (r) => ({ exitCode: r.exitCode, output: r.output }),
      (err: Error) => ({ exitCode: -1, output: err.message }),
    ).then((r) => {
      this.running = undefined;
      if (this.stopped) return; // stopped while probing: the result no longer counts
      const result: HealthcheckResult = {
        Start: new Date(start).toISOString(), End: new Date(this.clock.now()).toISOString(), ExitCode: r.exitCode, Output: r.output,
      };
      const before = this.o.current();
      const next = applyProbeResult(before, result, { retries: this.timing.retries, startPeriodMs: this.timing.startPeriodMs, startedAt: this.o.startedAt });
      try {
        this.o.onResult(next, next.Status !== before.Status);
      } finally {
        if (!this.stopped) this.schedule();
      }
    }).catch(() => {}); // onResult reports its own failures; the monitor keeps going
    this.running = { abort, done };
  }
}
