import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar } from '../../lib/tar/index.js';
import { upperLayerTar } from './upper-dir.js';

test('an upper dir becomes a layer tar with every entry, as GNU tar read it (none lost while names are looked up)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-upper-'));
  try {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd/f'), 'hi');
    const names: string[] = [];
    for await (const e of readTar(upperLayerTar(dir))) {
      names.push(e.header.name);
      for await (const _ of e.body) { /* drain */ }
    }
    assert.deepEqual(names, ['d/', 'd/f']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
