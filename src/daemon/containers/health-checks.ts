/**
 * The daemon's side of healthchecks: one HealthMonitor per running
 * container with a check, kept in step with the container's lifecycle the
 * way moby's initHealthMonitor / updateHealthMonitor / stopHealthchecks do.
 *
 *   start, restart, live restore → started(rec): State.Health = starting, monitor on
 *   exit, pause, removal         → stopped(rec): monitor off, State.Health.Status = unhealthy
 *   unpause                      → resumed(rec): monitor on, status left as it is
 *
 * Health lives in the record (`rec.state.Health`) and is saved with it: on
 * every status change here, and with every other state change by the
 * runner. A probe's log and streak alone are not worth a write each
 * interval (moby keeps those in memory until the next checkpoint too).
 */
import type { Logger } from '../../lib/logger.js';
import type { EventBus } from '../events/event-bus.js';
import { HealthMonitor, probeCommand, startingHealth, type HealthClock, type Probe } from './health.js';
import { eventAttributes, type ContainerRecord } from './record.js';

export interface HealthChecksDeps {
  /** Runs one probe of `argv` in the running container `id` (ExecService.probe). */
  probe(id: string, argv: string[], timeoutMs: number, signal: AbortSignal): ReturnType<Probe>;
  save(rec: ContainerRecord): Promise<void>;
  events: EventBus;
  log: Logger;
  clock?: HealthClock;
}

/** How long stopping a monitor waits for a probe that is being killed. */
const STOP_GRACE_MS = 5_000;

export class HealthChecks {
  private readonly monitors = new Map<string, HealthMonitor>();

  constructor(private readonly d: HealthChecksDeps) {}

  /** A container (re)started or was found running after a daemon restart: health begins again. */
  started(rec: ContainerRecord): void {
    if (!probeCommand(rec.config.Healthcheck, rec.config.Shell)) return;
    void this.detach(rec.id);
    rec.state = { ...rec.state, Health: startingHealth(rec.state.Health) };
    this.resumed(rec);
  }

  /** Probes run again (after unpause); the status stays as it is until the next probe. */
  resumed(rec: ContainerRecord): void {
    const argv = probeCommand(rec.config.Healthcheck, rec.config.Shell);
    if (!argv || !rec.state.Health || this.monitors.has(rec.id) || !rec.state.Running || rec.state.Paused) return;
    const monitor = new HealthMonitor({
      config: rec.config.Healthcheck!,
      startedAt: Date.parse(rec.state.StartedAt),
      probe: (timeoutMs, signal) => this.d.probe(rec.id, argv, timeoutMs, signal),
      current: () => rec.state.Health ?? startingHealth(undefined),
      onResult: (next, changed) => {
        rec.state = { ...rec.state, Health: next };
        if (!changed) return;
        this.d.events.publish('container', `health_status: ${next.Status}`, rec.id, eventAttributes(rec));
        this.d.save(rec).catch((err: Error) => this.d.log.warn('saving health state failed', { id: rec.id, error: err.message }));
      },
      ...(this.d.clock ? { clock: this.d.clock } : {}),
    });
    this.monitors.set(rec.id, monitor);
    monitor.start();
  }

  /**
   * The container stopped, paused or is being removed: no more probes, and
   * its status reads unhealthy (moby CloseMonitorChannel). The caller saves.
   * Resolves once a running probe has ended, or after a short grace.
   */
  async stopped(rec: ContainerRecord): Promise<void> {
    const monitor = this.monitors.get(rec.id);
    if (!monitor) return;
    this.monitors.delete(rec.id);
    const done = monitor.stop();
    if (rec.state.Health) rec.state = { ...rec.state, Health: { ...rec.state.Health, Status: 'unhealthy' } };
    await Promise.race([done, new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
  }

  /** Daemon shutdown with live-restore: probes stop, state stays as it is. */
  async detachAll(): Promise<void> {
    await Promise.all([...this.monitors.keys()].map((id) => this.detach(id)));
  }

  /** Is a monitor running for the container? */
  monitoring(id: string): boolean {
    return this.monitors.has(id);
  }

  private detach(id: string): Promise<void> {
    const monitor = this.monitors.get(id);
    this.monitors.delete(id);
    return monitor ? Promise.race([monitor.stop(), new Promise<void>((r) => setTimeout(r, STOP_GRACE_MS).unref())]) : Promise.resolve();
  }
}
