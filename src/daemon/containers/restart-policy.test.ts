import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextBackoff, restartsOnDaemonStart, shouldRestart } from './restart-policy.js';

const facts = { exitCode: 1, restartCount: 0, manuallyStopped: false, daemonStopping: false };

test('policies decide restarts like moby', () => {
  assert.equal(shouldRestart({ Name: 'no', MaximumRetryCount: 0 }, facts), false);
  assert.equal(shouldRestart({ Name: 'always', MaximumRetryCount: 0 }, { ...facts, exitCode: 0 }), true);
  assert.equal(shouldRestart({ Name: 'always', MaximumRetryCount: 0 }, { ...facts, manuallyStopped: true }), false);
  assert.equal(shouldRestart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, { ...facts, daemonStopping: true }), false);
  assert.equal(shouldRestart({ Name: 'on-failure', MaximumRetryCount: 0 }, { ...facts, exitCode: 0 }), false);
  assert.equal(shouldRestart({ Name: 'on-failure', MaximumRetryCount: 2 }, { ...facts, restartCount: 1 }), true);
  assert.equal(shouldRestart({ Name: 'on-failure', MaximumRetryCount: 2 }, { ...facts, restartCount: 2 }), false);
});

test('at daemon start always comes back, unless-stopped only if not stopped by hand', () => {
  assert.equal(restartsOnDaemonStart({ Name: 'always', MaximumRetryCount: 0 }, 0, true, 0), true);
  assert.equal(restartsOnDaemonStart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, 0, true, 0), false);
  assert.equal(restartsOnDaemonStart({ Name: 'unless-stopped', MaximumRetryCount: 0 }, 143, false, 0), true);
  assert.equal(restartsOnDaemonStart({ Name: 'on-failure', MaximumRetryCount: 0 }, 0, false, 0), false);
});

test('backoff doubles from 100 ms, caps at a minute, resets after 10 s of running', () => {
  assert.equal(nextBackoff(0, 0), 100);
  assert.equal(nextBackoff(100, 50), 200);
  assert.equal(nextBackoff(40_000, 50), 60_000);
  assert.equal(nextBackoff(60_000, 50), 60_000);
  assert.equal(nextBackoff(800, 11_000), 100);
});
