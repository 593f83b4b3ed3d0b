import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeMountStubs } from './mount-stubs.js';

test('mount stubs: empty files and directories the runtime made go; written ones and paths outside stay', async () => {
  const upper = mkdtempSync('/tmp/berth-stubs-');
  const outside = mkdtempSync('/tmp/berth-stubs-outside-');
  try {
    mkdirSync(join(upper, 'run/secrets'), { recursive: true });
    writeFileSync(join(upper, 'run/secrets/token'), '');
    mkdirSync(join(upper, 'root/.cache'), { recursive: true });
    writeFileSync(join(upper, 'root/.cache/kept'), 'x');
    mkdirSync(join(upper, 'in'));
    mkdirSync(join(outside, 'victim'));
    symlinkSync(outside, join(upper, 'evil'));
    await removeMountStubs(upper, ['/run/secrets/token', '/root/.cache', '/run/secrets', '/in', '/evil/victim', '/run', '/']);
    assert.deepEqual(readdirSync(upper).sort(), ['evil', 'root']);
    assert.deepEqual(readdirSync(join(upper, 'root/.cache')), ['kept']);
    assert.deepEqual(readdirSync(outside), ['victim']); // the symlink led out: nothing removed there
  } finally {
    rmSync(upper, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
