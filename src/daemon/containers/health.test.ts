import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerHealth, HealthcheckResult } from '../../api/types/index.js';
import {
  applyProbeResult, healthTiming, HealthMonitor, LimitedOutput, probeCommand, startingHealth,
  type HealthClock, type Probe,
} from './health.js';

const S = 1_000_000_000; // one second in the config's nanoseconds
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A clock whose timers fire only when the test advances time. */
class FakeClock implements HealthClock {
  t = T0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Moves time forward, firing due timers in order and letting probes settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function result(exitCode: number, start = T0): HealthcheckResult {
  return { Start: new Date(start).toISOString(), End: new Date(start).toISOString(), ExitCode: exitCode, Output: '' };
}

/** A container's health held the way the daemon holds it, with the events it would publish. */
function harness(config: Parameters<typeof healthTiming>[0], probe: Probe, startedAt = T0) {
  const clock = new FakeClock();
  let health: ContainerHealth = startingHealth(undefined);
  const events: string[] = [];
  const monitor = new HealthMonitor({
    config, startedAt, probe, clock,
    current: () => health,
    onResult: (next, changed) => {
      health = next;
      if (changed) events.push(`health_status: ${next.Status}`);
    },
  });
  return { clock, monitor, events, health: () => health };
}

test('defaults are moby\'s: interval and timeout 30s, start interval 5s, 3 retries', () => {
  assert.deepEqual(healthTiming({ Test: ['CMD', 'true'] }), { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 });
  assert.deepEqual(healthTiming({ Interval: S, Timeout: 2 * S, StartPeriod: 3 * S, StartInterval: S / 2, Retries: 7 }),
    { intervalMs: 1000, timeoutMs: 2000, startPeriodMs: 3000, startIntervalMs: 500, retries: 7 });
});

test('CMD runs its argv, CMD-SHELL the shell, NONE and empty tests run nothing', () => {
  assert.deepEqual(probeCommand({ Test: ['CMD', 'cat', '/tmp/ok'] }), ['cat', '/tmp/ok']);
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'test -f /tmp/ok'] }), ['/bin/sh', '-c', 'test -f /tmp/ok']);
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'x'] }, ['/bin/bash', '-ec']), ['/bin/bash', '-ec', 'x']);
  assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
  assert.equal(probeCommand({ Test: [] }), undefined);
  assert.equal(probeCommand({ Test: ['CMD'] }), undefined);
  assert.equal(probeCommand(undefined), undefined);
  assert.equal(probeCommand({ Test: ['HTTP', 'x'] }), undefined);
});

test('a success makes a container healthy; retries failures in a row make it unhealthy', () => {
  const o = { retries: 3, startPeriodMs: 0, startedAt: T0 };
  let h = startingHealth(undefined);
  h = applyProbeResult(h, result(0), o);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  h = applyProbeResult(h, result(1), o);
  h = applyProbeResult(h, result(1), o);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 2]);
  h = applyProbeResult(h, result(-1), o);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 3]);
  h = applyProbeResult(h, result(2), o);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 4]);
  h = applyProbeResult(h, result(0), o);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  assert.equal(h.Log.length, 5, 'only the last five results are kept');
  assert.deepEqual(h.Log.map((r) => r.ExitCode), [1, 1, -1, 2, 0]);
});

test('failures inside the start period do not count while starting; a success there is healthy', () => {
  const o = { retries: 1, startPeriodMs: 10_000, startedAt: T0 };
  let h = startingHealth(undefined);
  h = applyProbeResult(h, result(1, T0 + 5_000), o);
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 1]);
  h = applyProbeResult(h, result(1, T0 + 10_000), o);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 1], 'the period is over at its end');
  let healthy = applyProbeResult(startingHealth(undefined), result(0, T0 + 1_000), o);
  assert.equal(healthy.Status, 'healthy');
  healthy = applyProbeResult(healthy, result(1, T0 + 2_000), o);
  assert.deepEqual([healthy.Status, healthy.FailingStreak], ['unhealthy', 1], 'once healthy, the start period no longer shields');
});

test('a restart begins starting again but keeps the log', () => {
  const h = startingHealth({ Status: 'unhealthy', FailingStreak: 4, Log: [result(1)] });
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 1]);
});

test('output is kept up to 4096 bytes, then marked cut', () => {
  const out = new LimitedOutput();
  out.write(Buffer.alloc(4000, 'a'));
  out.write(Buffer.alloc(200, 'b'));
  const s = out.toString();
  assert.equal(s.length, 4096 + 3);
  assert.ok(s.endsWith('b...'));
  const small = new LimitedOutput();
  small.write(Buffer.from('ok\n'));
  assert.equal(small.toString(), 'ok\n');
});

test('the monitor probes every interval and reports each status change once', async () => {
  let code = 0;
  const starts: number[] = [];
  const h = harness({ Test: ['CMD', 'x'], Interval: S, Retries: 2 }, async () => {
    starts.push(Date.now());
    return { exitCode: code, output: `exit ${code}` };
  });
  h.monitor.start();
  await h.clock.advance(999);
  assert.equal(h.health().Log.length, 0, 'no probe before the first interval');
  await h.clock.advance(1);
  assert.equal(h.health().Status, 'healthy');
  code = 1;
  await h.clock.advance(1000);
  assert.deepEqual([h.health().Status, h.health().FailingStreak], ['healthy', 1]);
  await h.clock.advance(1000);
  assert.deepEqual([h.health().Status, h.health().FailingStreak], ['unhealthy', 2]);
  await h.clock.advance(3000);
  assert.equal(h.health().FailingStreak, 5);
  assert.deepEqual(h.events, ['health_status: healthy', 'health_status: unhealthy']);
  assert.equal(h.health().Log.at(-1)!.Output, 'exit 1');
  await h.monitor.stop();
  assert.equal(h.clock.pending, 0, 'no timer left after stop');
});

test('the start interval is used while starting inside the start period', async () => {
  const at: number[] = [];
  const h = harness({ Test: ['CMD', 'x'], Interval: 10 * S, StartPeriod: 3 * S, StartInterval: S }, async () => {
    at.push(0);
    return { exitCode: 1, output: '' };
  });
  const clock = h.clock;
  h.monitor.start();
  await clock.advance(2500);
  assert.equal(at.length, 2, 'every second during the start period');
  assert.deepEqual([h.health().Status, h.health().FailingStreak], ['starting', 0]);
  await clock.advance(500);
  assert.equal(at.length, 3);
  assert.equal(h.health().FailingStreak, 1, 'the probe at the end of the period counts');
  await clock.advance(9999);
  assert.equal(at.length, 3, 'then the normal interval');
  await clock.advance(1);
  assert.equal(at.length, 4);
  assert.equal(h.health().FailingStreak, 2);
  await h.monitor.stop();
});

test('a probe that throws is a failure with its message', async () => {
  const h = harness({ Test: ['CMD', 'x'], Interval: S, Retries: 1 }, async () => {
    throw new Error('container is not running');
  });
  h.monitor.start();
  await h.clock.advance(1000);
  assert.deepEqual([h.health().Status, h.health().Log[0]!.ExitCode, h.health().Log[0]!.Output], ['unhealthy', -1, 'container is not running']);
  await h.monitor.stop();
});

test('stop aborts a running probe, waits for it, and ignores its result', async () => {
  let aborted = false;
  let finish: (() => void) | undefined;
  const h = harness({ Test: ['CMD', 'x'], Interval: S, Timeout: 60 * S }, (timeoutMs, signal) => new Promise((resolve) => {
    assert.equal(timeoutMs, 60_000);
    signal.addEventListener('abort', () => {
      aborted = true;
      finish = () => resolve({ exitCode: -1, output: 'killed' });
    });
  }));
  h.monitor.start();
  await h.clock.advance(1000);
  let stopped = false;
  const stopping = h.monitor.stop().then(() => (stopped = true));
  await settle();
  assert.ok(aborted, 'the probe was told to stop');
  assert.equal(stopped, false, 'stop waits for the probe to end');
  finish!();
  await stopping;
  assert.equal(h.health().Log.length, 0, 'the aborted run is not recorded');
  assert.equal(h.clock.pending, 0);
  await h.clock.advance(10_000);
  assert.equal(h.health().Log.length, 0, 'nothing runs after stop');
});
