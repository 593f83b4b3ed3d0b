import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandString, exitedState, initialState, runningState, statusString } from './record.js';
import { humanDuration } from '../../lib/units.js';

test('human durations match go-units', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(59_000), '59 seconds');
  assert.equal(humanDuration(61_000), 'About a minute');
  assert.equal(humanDuration(5 * 60_000), '5 minutes');
  assert.equal(humanDuration(3_600_000), 'About an hour');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
});

test('status strings follow the container state', () => {
  const now = Date.parse('2026-11-22T10:00:10Z');
  const created = initialState();
  assert.equal(statusString(created, now), 'Created');
  const running = runningState(created, 42, new Date('2026-11-22T10:00:00Z'));
  assert.equal(statusString(running, now), 'Up 10 seconds');
  assert.equal(statusString({ ...running, Paused: true }, now), 'Up 10 seconds (Paused)');
  const exited = exitedState(running, 3, new Date('2026-11-22T10:00:05Z'));
  assert.equal(statusString(exited, now), 'Exited (3) 5 seconds ago');
});

test('commands are quoted like docker ps shows them', () => {
  assert.equal(commandString('/bin/sh', ['-c', 'sleep 1000']), "/bin/sh -c 'sleep 1000'");
  assert.equal(commandString('echo', ['hello']), 'echo hello');
});

test('a running container with a healthcheck shows its health in ps', () => {
  const now = Date.parse('2026-11-22T10:00:05Z');
  const running = runningState(initialState(), 42, new Date('2026-11-22T10:00:00Z'));
  const h = (Status: 'starting' | 'healthy' | 'unhealthy') => ({ ...running, Health: { Status, FailingStreak: 0, Log: [] } });
  assert.equal(statusString(h('starting'), now), 'Up 5 seconds (health: starting)');
  assert.equal(statusString(h('healthy'), now), 'Up 5 seconds (healthy)');
  assert.equal(statusString(h('unhealthy'), now), 'Up 5 seconds (unhealthy)');
  assert.equal(statusString({ ...h('healthy'), Paused: true }, now), 'Up 5 seconds (Paused)');
  assert.equal(statusString(exitedState(h('unhealthy'), 1, new Date(now)), now), 'Exited (1) Less than a second ago');
});
