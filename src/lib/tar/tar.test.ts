import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readTar, TarWriter, headerDefaults, TarFormatError } from './index.js';

async function collect(tar: Buffer) {
  const out: { name: string; type: string; body: string; linkname: string; pax: Record<string, string> }[] = [];
  for await (const e of readTar(Readable.from([tar]))) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.push({ name: e.header.name, type: e.header.type, body: Buffer.concat(parts).toString(), linkname: e.header.linkname, pax: e.header.pax });
  }
  return out;
}

async function written(fn: (w: TarWriter) => Promise<void>): Promise<Buffer> {
  const w = new TarWriter();
  const parts: Buffer[] = [];
  w.stream.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((r) => w.stream.on('end', r));
  await fn(w);
  await done;
  return Buffer.concat(parts);
}

test('round-trips files, dirs, links, long names and xattrs', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`;
  const tar = await written(async (w) => {
    await w.add(headerDefaults({ name: 'etc/', type: 'dir' }));
    await w.add(headerDefaults({ name: 'etc/passwd', type: 'file', size: 5 }), 'root\n');
    await w.add(headerDefaults({ name: 'bin/sh', type: 'symlink', linkname: 'busybox' }));
    await w.add(headerDefaults({ name: 'bin/ash', type: 'link', linkname: 'bin/busybox' }));
    await w.add(headerDefaults({ name: long, type: 'file', size: 2, pax: { 'SCHILY.xattr.user.k': 'v' } }), 'hi');
    await w.finish();
  });
  const entries = await collect(tar);
  assert.deepEqual(entries.map((e) => [e.name, e.type]), [
    ['etc/', 'dir'], ['etc/passwd', 'file'], ['bin/sh', 'symlink'], ['bin/ash', 'link'], [long, 'file'],
  ]);
  assert.equal(entries[1]!.body, 'root\n');
  assert.equal(entries[2]!.linkname, 'busybox');
  assert.equal(entries[4]!.body, 'hi');
  assert.equal(entries[4]!.pax['SCHILY.xattr.user.k'], 'v');
});

test('reads what GNU tar writes, and GNU tar reads what we write', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-'));
  try {
    mkdirSync(join(dir, 'src', 'a'.repeat(150)), { recursive: true });
    writeFileSync(join(dir, 'src', 'a'.repeat(150), 'file.txt'), 'content');
    symlinkSync('file.txt', join(dir, 'src', 'link'));
    const gnu = spawnSync('tar', ['-C', join(dir, 'src'), '--sort=name', '-cf', '-', '.']);
    const entries = await collect(gnu.stdout);
    assert.ok(entries.some((e) => e.name === `./${'a'.repeat(150)}/file.txt` && e.body === 'content'));
    assert.ok(entries.some((e) => e.name === './link' && e.type === 'symlink' && e.linkname === 'file.txt'));

    const ours = await written(async (w) => {
      await w.add(headerDefaults({ name: `${'x'.repeat(200)}`, type: 'file', size: 3 }), 'abc');
      await w.finish();
    });
    writeFileSync(join(dir, 'ours.tar'), ours);
    const list = spawnSync('tar', ['-tvf', join(dir, 'ours.tar')], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${'x'.repeat(200)}$`, 'm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an extended attribute\'s value is bytes: a capability with bytes over 0x7f survives GNU tar, our reader and our writer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-'));
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'tool'), 'x');
    // cap_setuid is bit 7: the permitted mask's first byte is 0x80
    const set = spawnSync('setcap', ['cap_setuid,cap_setfcap+ep', join(dir, 'src', 'tool')], { encoding: 'utf8' });
    assert.equal(set.status, 0, set.stderr);
    const gnu = spawnSync('tar', ['-C', join(dir, 'src'), '--xattrs', '--xattrs-include=security.capability', '-cf', '-', 'tool']);
    const [entry] = await collect(gnu.stdout);
    const cap = Buffer.from(entry!.pax['SCHILY.xattr.security.capability']!, 'latin1');
    assert.equal(cap.readUInt32LE(4), 0x80000080, `permitted mask in ${cap.toString("hex")}`); // bits 7 and 31
    const ours = await written(async (w) => {
      await w.add(headerDefaults({ name: 'tool', type: 'file', size: 1, mode: 0o755, pax: { 'SCHILY.xattr.security.capability': cap.toString('latin1') } }), 'x');
      await w.finish();
    });
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'ours.tar'), ours);
    const x = spawnSync('tar', ['-C', join(dir, 'out'), '--xattrs', '--xattrs-include=security.capability', '-xf', join(dir, 'ours.tar')], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    const get = spawnSync('getcap', [join(dir, 'out', 'tool')], { encoding: 'utf8' });
    assert.match(get.stdout, /cap_setuid,cap_setfcap[=+]ep/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated archive is an error, not a silent short read', async () => {
  const tar = await written(async (w) => {
    await w.add(headerDefaults({ name: 'big', type: 'file', size: 4096 }), Buffer.alloc(4096, 1));
    await w.finish();
  });
  await assert.rejects(collect(tar.subarray(0, 1500)), TarFormatError);
  const corrupt = Buffer.from(tar);
  corrupt[10] = 0x41;
  await assert.rejects(collect(corrupt), /checksum/);
});

test('PAX numbers that are not plain decimal counts are a format error', async () => {
  const bad: Record<string, string>[] = [
    { size: '12abc' }, { size: '-1' }, { size: '1e3' }, { size: '99999999999999999999' },
    { uid: '-1' }, { uid: '4294967296' }, { gid: '0x10' }, { mtime: 'NaN' }, { mtime: '1e9' },
  ];
  for (const pax of bad) {
    const tar = await written(async (w) => {
      await w.add(headerDefaults({ name: 'f', type: 'file', size: 1, pax }), 'x');
      await w.finish();
    });
    await assert.rejects(collect(tar), TarFormatError, JSON.stringify(pax));
  }
  const good = await written(async (w) => {
    await w.add(headerDefaults({ name: 'f', type: 'file', size: 1, pax: { uid: '4294967294', mtime: '-12.5' } }), 'x');
    await w.finish();
  });
  assert.equal((await collect(good))[0]!.body, 'x');
});

test('a reader that goes away ends add() and closes the body, which would otherwise hold its file open', async () => {
  const w = new TarWriter();
  const body = Readable.from((function* () { for (let i = 0; i < 64; i++) yield Buffer.alloc(64 << 10); })());
  const adding = w.add(headerDefaults({ name: 'big', type: 'file', size: 64 * (64 << 10) }), body);
  await new Promise((r) => setTimeout(r, 20)); // blocked on 'drain': nobody reads
  w.stream.destroy();
  await assert.rejects(adding, /tar stream closed/);
  assert.equal(body.destroyed, true);
  const empty = Readable.from([]);
  const w2 = new TarWriter();
  w2.stream.resume();
  await w2.add(headerDefaults({ name: 'empty', type: 'file', size: 0 }), empty);
  assert.equal(empty.destroyed, true, 'a body the entry never read is closed too');
});
