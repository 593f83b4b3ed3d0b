import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteBooleanGlobals } from './global-flags.js';

test('--tls=false and --tlsverify=true become commander flags, before the command only', () => {
  assert.deepEqual(rewriteBooleanGlobals(['--tlsverify=false', '-H', 'tcp://h:2376', 'ps']), ['--no-tlsverify', '-H', 'tcp://h:2376', 'ps']);
  assert.deepEqual(rewriteBooleanGlobals(['--tls=1', 'version']), ['--tls', 'version']);
  assert.deepEqual(rewriteBooleanGlobals(['run', 'busybox', 'echo', '--tls=false']), ['run', 'busybox', 'echo', '--tls=false']);
  assert.deepEqual(rewriteBooleanGlobals(['-H', '--tls=false', 'ps']), ['-H', '--tls=false', 'ps'], 'a value of -H is not a flag');
  assert.deepEqual(rewriteBooleanGlobals(['--tls=maybe', 'ps']), ['--tls=maybe', 'ps'], 'left for commander to refuse');
});
