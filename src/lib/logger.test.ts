import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { cleanupFailed, Logger } from './logger.js';

function capture(level: 'debug' | 'info'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const out = new Writable({ write: (c, _e, cb) => { lines.push(String(c)); cb(); } });
  return { log: new Logger(level, out), lines };
}

test('a failed cleanup step is one debug line with what, the fields and the error', async () => {
  const { log, lines } = capture('debug');
  await Promise.reject(new Error('device busy')).catch(cleanupFailed(log, 'unmount the rootfs', { id: 'abc' }));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, / debug cleanup: unmount the rootfs failed id=abc error="device busy"\n$/);
});

test('at the info level a failed cleanup step is silent, and no logger is fine', async () => {
  const { log, lines } = capture('info');
  await Promise.reject(new Error('x')).catch(cleanupFailed(log, 'remove a blob'));
  await Promise.reject(new Error('x')).catch(cleanupFailed(undefined, 'remove a blob'));
  assert.deepEqual(lines, []);
});
