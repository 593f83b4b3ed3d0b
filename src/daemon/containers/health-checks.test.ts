import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../../lib/logger.js';
import { EventBus } from '../events/event-bus.js';
import { newContainerRecord } from './create.js';
import { HealthChecks } from './health-checks.js';
import { runningState, type ContainerRecord } from './record.js';

const S = 1_000_000_000;

function runningContainer(Healthcheck?: { Test: string[]; Interval?: number; Retries?: number }): ContainerRecord {
  const id = 'd'.repeat(64);
  const rec = newContainerRecord({ id, name: 'web', request: { Cmd: ['sleep', '9'], Image: 'busybox', ...(Healthcheck ? { Healthcheck } : {}) }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 2 });
  rec.state = runningState(rec.state, 1, new Date(Date.now() - 1000));
  return rec;
}

/** Timers that fire when the test says so. */
function manualClock() {
  const t = Date.now();
  const timers: { fn: () => void; id: number }[] = [];
  let n = 0;
  return {
    now: () => t,
    setTimeout: (fn: () => void) => {
      timers.push({ fn, id: ++n });
      return n;
    },
    clearTimeout: (h: unknown) => {
      const i = timers.findIndex((x) => x.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    pending: () => timers.length,
    async fire() {
      const next = timers.shift();
      next?.fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}

function setup(exitCode: () => number) {
  const events = new EventBus();
  const seen: string[] = [];
  events.subscribe((e) => seen.push(e.Action));
  const saves: string[] = [];
  const probes: string[][] = [];
  const clock = manualClock();
  const checks = new HealthChecks({
    probe: async (_id, argv) => {
      probes.push(argv);
      return { exitCode: exitCode(), output: '' };
    },
    save: async (rec) => void saves.push(rec.state.Health?.Status ?? 'none'),
    events, log: new Logger('error'), clock,
  });
  return { checks, seen, saves, probes, clock };
}

test('a started container begins starting, turns healthy with one event and one save, and reads unhealthy once stopped', async () => {
  const s = setup(() => 0);
  const rec = runningContainer({ Test: ['CMD-SHELL', 'true'], Interval: S });
  s.checks.started(rec);
  assert.deepEqual(rec.state.Health, { Status: 'starting', FailingStreak: 0, Log: [] });
  await s.clock.fire();
  await s.clock.fire();
  assert.deepEqual(s.probes, [['/bin/sh', '-c', 'true'], ['/bin/sh', '-c', 'true']]);
  assert.equal(rec.state.Health?.Status, 'healthy');
  assert.equal(rec.state.Health?.Log.length, 2);
  assert.deepEqual(s.seen, ['health_status: healthy']);
  assert.deepEqual(s.saves, ['healthy'], 'saved on the status change only');
  await s.checks.stopped(rec);
  assert.equal(rec.state.Health?.Status, 'unhealthy');
  assert.equal(s.checks.monitoring(rec.id), false);
  assert.equal(s.clock.pending(), 0, 'no timer left');
});

test('containers without a check, or with NONE, get no monitor and no Health', () => {
  const s = setup(() => 0);
  for (const rec of [runningContainer(), runningContainer({ Test: ['NONE'] })]) {
    s.checks.started(rec);
    assert.equal(rec.state.Health, undefined);
    assert.equal(s.checks.monitoring(rec.id), false);
  }
  assert.equal(s.clock.pending(), 0);
});

test('a restart resets to starting; unpause resumes without a reset', async () => {
  const s = setup(() => 1);
  const rec = runningContainer({ Test: ['CMD', 'false'], Retries: 1 });
  s.checks.started(rec);
  await s.clock.fire();
  assert.deepEqual([rec.state.Health?.Status, rec.state.Health?.FailingStreak], ['unhealthy', 1]);
  await s.checks.stopped(rec); // pause
  rec.state = { ...rec.state, Paused: true };
  s.checks.resumed(rec);
  assert.equal(s.checks.monitoring(rec.id), false, 'no probes while paused');
  rec.state = { ...rec.state, Paused: false };
  s.checks.resumed(rec);
  assert.equal(s.checks.monitoring(rec.id), true);
  assert.equal(rec.state.Health?.FailingStreak, 1);
  s.checks.started(rec);
  assert.deepEqual([rec.state.Health?.Status, rec.state.Health?.FailingStreak, rec.state.Health?.Log.length], ['starting', 0, 1]);
  await s.checks.detachAll();
  assert.equal(s.clock.pending(), 0);
});
