import { once } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonFileWriter } from './json-file.js';

test('reopen: after the file was renamed away, entries go to a new file at the path, none lost', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reopen-'));
  try {
    const path = join(dir, 'c.log');
    const w = await JsonFileWriter.open(path);
    const written = once(w, 'write');
    w.write('stdout', Buffer.from('one\n'));
    await written;
    await rename(path, `${path}.1`);
    const reopened = w.reopen();
    w.write('stdout', Buffer.from('two\n')); // held while the file is reopened
    await reopened;
    w.write('stderr', Buffer.from('three\n'));
    await w.close();
    const lines = async (p: string) => (await readFile(p, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { log: string }).log);
    assert.deepEqual(await lines(`${path}.1`), ['one\n']);
    assert.deepEqual(await lines(path), ['two\n', 'three\n']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
