/** The small-file worker: files arrive with their bytes, mode and time, never through an existing entry or a symlink. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DirFd } from '../../../lib/dir-fd.js';
import { SmallFileWorker } from './small-files.js';

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

test('a batch creates every file with its bytes, mode and mtime', async () => {
  const base = mkdtempSync('/tmp/berth-small-');
  const w = new SmallFileWorker();
  const dir = await DirFd.open(base);
  try {
    await w.create(dir.fd, [
      { name: 'a', data: Buffer.from('alpha\n'), mode: 0o640, ...me, mtime: 1_600_000_000.5 },
      { name: 'empty', data: Buffer.alloc(0), mode: 0o600, ...me, mtime: 1_500_000_000 },
      { name: 'exe', data: Buffer.alloc(70_000, 7), mode: 0o755, ...me, mtime: 1_400_000_000 },
    ]);
    assert.equal(readFileSync(join(base, 'a'), 'utf8'), 'alpha\n');
    assert.equal(statSync(join(base, 'a')).mode & 0o7777, 0o640);
    assert.equal(statSync(join(base, 'a')).mtimeMs, 1_600_000_000_500);
    assert.equal(statSync(join(base, 'empty')).size, 0);
    assert.equal(statSync(join(base, 'empty')).mtimeMs, 1_500_000_000_000);
    assert.deepEqual(readFileSync(join(base, 'exe')), Buffer.alloc(70_000, 7));
    assert.equal(statSync(join(base, 'exe')).mode & 0o7777, 0o755);
  } finally {
    await dir.close();
    await w.close();
    rmSync(base, { recursive: true, force: true });
  }
});

test('an existing entry or a symlink at a name fails the batch with EEXIST and nothing is written through it', async () => {
  const base = mkdtempSync('/tmp/berth-small-');
  mkdirSync(join(base, 'd'));
  writeFileSync(join(base, 'outside'), 'untouched\n');
  symlinkSync('../outside', join(base, 'd', 'link'));
  const w = new SmallFileWorker();
  const dir = await DirFd.open(join(base, 'd'));
  try {
    await assert.rejects(
      w.create(dir.fd, [
        { name: 'first', data: Buffer.from('1'), mode: 0o644, ...me, mtime: 0 },
        { name: 'link', data: Buffer.from('evil'), mode: 0o644, ...me, mtime: 0 },
        { name: 'after', data: Buffer.from('2'), mode: 0o644, ...me, mtime: 0 },
      ]),
      (err: NodeJS.ErrnoException) => err.code === 'EEXIST',
    );
    assert.equal(readFileSync(join(base, 'outside'), 'utf8'), 'untouched\n');
    assert.ok(lstatSync(join(base, 'd', 'link')).isSymbolicLink());
    assert.equal(readFileSync(join(base, 'd', 'first'), 'utf8'), '1', 'files before the failure are made');
    assert.ok(!existsSync(join(base, 'd', 'after')), 'the batch stops at the first failure');
    // the worker survives a failed batch
    await w.create(dir.fd, [{ name: 'again', data: Buffer.from('ok'), mode: 0o644, ...me, mtime: 0 }]);
    assert.equal(readFileSync(join(base, 'd', 'again'), 'utf8'), 'ok');
  } finally {
    await dir.close();
    await w.close();
    rmSync(base, { recursive: true, force: true });
  }
});

test('owners and special mode bits are applied when the new file does not have them already', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
  const base = mkdtempSync('/tmp/berth-small-');
  const w = new SmallFileWorker();
  const dir = await DirFd.open(base);
  const umask = process.umask(0o077); // a narrow umask must not narrow the archive's modes
  try {
    await w.create(dir.fd, [
      { name: 'owned', data: Buffer.from('x'), mode: 0o644, uid: 1234, gid: 4321, mtime: 0 },
      { name: 'suid', data: Buffer.from('x'), mode: 0o4755, uid: 1234, gid: 4321, mtime: 0 },
      { name: 'root', data: Buffer.from('x'), mode: 0o664, uid: 0, gid: 0, mtime: 0 },
    ]);
    assert.deepEqual([statSync(join(base, 'owned')).uid, statSync(join(base, 'owned')).gid], [1234, 4321]);
    assert.equal(statSync(join(base, 'owned')).mode & 0o7777, 0o644);
    assert.equal(statSync(join(base, 'suid')).mode & 0o7777, 0o4755, 'set after the chown, which clears it');
    assert.equal(statSync(join(base, 'root')).mode & 0o7777, 0o664);
  } finally {
    process.umask(umask);
    await dir.close();
    await w.close();
    rmSync(base, { recursive: true, force: true });
  }
});
