import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from './scoped-path.js';

test('symlinks resolve inside the root, never out of it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-scope-'));
  try {
    mkdirSync(join(root, 'etc'));
    symlinkSync('/etc/shadow', join(root, 'etc', 'passwd'));
    symlinkSync('../../../../..', join(root, 'up'));
    symlinkSync('etc', join(root, 'conf'));
    assert.equal(await resolveInRoot(root, '/etc/passwd'), join(root, 'etc/shadow'));
    assert.equal(await resolveInRoot(root, '/up/etc/hosts'), join(root, 'etc/hosts'));
    assert.equal(await resolveInRoot(root, '/conf/x'), join(root, 'etc/x'));
    assert.equal(await resolveInRoot(root, '../../etc'), join(root, 'etc'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('symlink loops fail instead of spinning', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-scope-'));
  try {
    symlinkSync('b', join(root, 'a'));
    symlinkSync('a', join(root, 'b'));
    await assert.rejects(resolveInRoot(root, '/a/x'), /too many levels/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
