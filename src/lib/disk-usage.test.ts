import { test } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directorySize, directoryUsage } from './disk-usage.js';

test('directoryUsage: bytes and inodes under a directory, a hard-linked file counted once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-du-'));
  try {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a'), 'x'.repeat(100));
    await link(join(dir, 'sub', 'a'), join(dir, 'b'));
    await writeFile(join(dir, 'c'), 'y'.repeat(10));
    assert.deepEqual(await directoryUsage(dir), { bytes: 110, inodes: 3 });
    assert.equal(await directorySize(dir), 110);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
