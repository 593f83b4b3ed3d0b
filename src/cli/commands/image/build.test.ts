import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { frame, StdStream } from '../../../api/stdcopy.js';
import type { JSONMessage } from '../../../api/types/index.js';
import { headerDefaults, TarWriter } from '../../../lib/tar/index.js';
import { exportFiles, parseOutput } from './build.js';

test('-o forms: type=local,dest / type=tar,dest / a bare directory / - for stdout', () => {
  assert.deepEqual(parseOutput('type=local,dest=out'), { type: 'local', dest: 'out' });
  assert.deepEqual(parseOutput('type=tar,dest=x.tar'), { type: 'tar', dest: 'x.tar' });
  assert.deepEqual(parseOutput('out/dir'), { type: 'local', dest: 'out/dir' });
  assert.deepEqual(parseOutput('-'), { type: 'tar', dest: '-' });
  assert.throws(() => parseOutput('type=image'), /output type "image" is not supported/);
  assert.throws(() => parseOutput('type=local'), /dest is required for local exporter/);
});

/** A daemon's answer: progress on stderr frames, `entries` as a tar on stdout frames. */
async function* answer(entries: [string, 'file' | 'symlink' | 'dir', string][]): AsyncGenerator<Buffer> {
  yield frame(StdStream.Stderr, Buffer.from(`${JSON.stringify({ stream: 'Step 1/1 : FROM scratch\n' })}\n`));
  const tar = new TarWriter();
  const chunks: Buffer[] = [];
  tar.stream.on('data', (c: Buffer) => chunks.push(c));
  for (const [name, type, data] of entries) {
    if (type === 'file') await tar.add(headerDefaults({ name, type, size: data.length }), Buffer.from(data));
    else await tar.add(headerDefaults({ name, type, ...(type === 'symlink' ? { linkname: data } : {}) }));
  }
  await tar.finish();
  for (const c of chunks) yield frame(StdStream.Stdout, c);
}

test('an export lands in DEST; progress goes to the callback', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-export-'));
  try {
    const seen: JSONMessage[] = [];
    await exportFiles(answer([['a/', 'dir', ''], ['a/b.txt', 'file', 'hi']]), { type: 'local', dest: join(dir, 'out') }, (m) => seen.push(m));
    assert.equal(readFileSync(join(dir, 'out/a/b.txt'), 'utf8'), 'hi');
    assert.deepEqual(seen, [{ stream: 'Step 1/1 : FROM scratch\n' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hostile export cannot write outside DEST: neither by ../ nor through a symlink it made', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-export-'));
  try {
    await assert.rejects(exportFiles(answer([['../escaped.txt', 'file', 'x']]), { type: 'local', dest: join(dir, 'out1') }, () => {}), /invalid entry name/);
    await assert.rejects(exportFiles(answer([['up', 'symlink', dir], ['up/escaped.txt', 'file', 'x']]), { type: 'local', dest: join(dir, 'out2') }, () => {}), /escapes root/);
    assert.equal(existsSync(join(dir, 'escaped.txt')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
