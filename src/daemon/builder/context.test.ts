import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { headerDefaults, TarWriter, type TarHeader } from '../../lib/tar/index.js';
import { unpackContext } from './context.js';

function tarOf(entries: [Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>, string?][]): Readable {
  const tar = new TarWriter();
  void (async () => {
    for (const [h, body] of entries) await tar.add(headerDefaults({ ...h, size: body?.length ?? 0 }), body);
    await tar.finish();
  })();
  return tar.stream;
}

test('files are unpacked and hashed as they are written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
  try {
    const hashes = await unpackContext(tarOf([[{ name: 'a/', type: 'dir' }], [{ name: 'a/f.txt', type: 'file', mode: 0o600 }, 'hello'], [{ name: 'h', type: 'link', linkname: 'a/f.txt' }]]), dir);
    assert.equal(readFileSync(join(dir, 'a/f.txt'), 'utf8'), 'hello');
    const want = createHash('sha256').update('hello').digest('hex');
    assert.equal(hashes.get(join(dir, 'a/f.txt')), want);
    assert.equal(hashes.get(join(dir, 'h')), want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing lands outside: .. names are refused, symlinks are followed only inside', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
  const outside = mkdtempSync(join(tmpdir(), 'outside-'));
  try {
    await assert.rejects(unpackContext(tarOf([[{ name: '../evil', type: 'file' }, 'x']]), dir), /escapes/);
    await unpackContext(tarOf([[{ name: 'esc', type: 'symlink', linkname: outside }], [{ name: 'esc/pwned', type: 'file' }, 'x']]), dir);
    assert.equal(existsSync(join(outside, 'pwned')), false);
    assert.equal(readFileSync(join(dir, outside, 'pwned'), 'utf8'), 'x'); // the link resolved inside the context
    await assert.rejects(unpackContext(tarOf([[{ name: 'l', type: 'link', linkname: '../../etc/passwd' }]]), dir), /escapes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
