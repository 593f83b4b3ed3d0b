/** ContainerFs and the extractor on a scratch directory: symlinks resolve inside the root, archives cannot climb out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { headerDefaults, TarWriter, type TarHeader } from '../../../lib/tar/index.js';
import { extractInto } from './extract.js';
import { ContainerFs } from './rooted-fs.js';

function scratch(): { base: string; root: string; outside: string } {
  const base = mkdtempSync('/tmp/berth-cfs-');
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'dest'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'etc', 'passwd'), 'inside\n');
  writeFileSync(join(outside, 'passwd'), 'outside\n');
  symlinkSync('/', join(root, 'abs'));
  symlinkSync('../../../../../..', join(root, 'etc', 'up'));
  symlinkSync('/etc/passwd', join(root, 'pw'));
  return { base, root, outside };
}

test('symlinks and .. resolve inside the root, never to the host', async () => {
  const { base, root } = scratch();
  const cfs = await ContainerFs.open(root, [], { readonlyRootfs: false });
  try {
    for (const [path, expect] of [['/abs/etc/passwd', '/etc/passwd'], ['/etc/up/etc/passwd', '/etc/passwd'], ['/../../etc/passwd', '/etc/passwd'], ['/pw', '/etc/passwd']]) {
      const r = await cfs.resolve(path!, { follow: true });
      assert.equal(r.path, expect, path);
      const fh = await r.dir.openRead(r.name);
      assert.equal((await fh.readFile()).toString(), 'inside\n', path);
      await fh.close();
      await r.release();
    }
    const link = await cfs.resolve('/pw', { follow: false });
    assert.equal(link.name, 'pw', 'without follow the last component is the link itself');
    await link.release();
    await assert.rejects(cfs.resolve('/missing/x', { follow: true }), /no such file or directory/);
  } finally {
    await cfs.close();
    rmSync(base, { recursive: true, force: true });
  }
});

async function tar(entries: [Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>, string?][]): Promise<Readable> {
  const w = new TarWriter();
  const chunks: Buffer[] = [];
  w.stream.on('data', (c: Buffer) => chunks.push(c));
  for (const [h, body] of entries) await w.add(headerDefaults({ ...h, size: body ? Buffer.byteLength(body) : 0 }), body);
  await w.finish();
  return Readable.from([Buffer.concat(chunks)]);
}

test('extraction stays below the destination, whatever the archive or the container planted', async () => {
  const { base, root, outside } = scratch();
  symlinkSync(outside, join(root, 'dest', 'host-link')); // as if the container pointed a link at a host path
  const cfs = await ContainerFs.open(root, [], { readonlyRootfs: false });
  const opts = { noOverwriteDirNonDir: true, rootOwner: { uid: 0, gid: 0 } };
  const into = async (entries: Parameters<typeof tar>[0]) => {
    const dest = await cfs.resolve('/dest', { follow: true, enterLast: true });
    try {
      await extractInto(cfs, dest, await tar(entries), opts);
    } finally {
      await dest.release();
    }
  };
  try {
    await into([[{ name: 'ok/', type: 'dir' }], [{ name: 'ok/file', type: 'file', mode: 0o600 }, 'fine']]);
    assert.equal(readFileSync(join(root, 'dest', 'ok', 'file'), 'utf8'), 'fine');
    await assert.rejects(into([[{ name: '../escaped', type: 'file' }, 'x']]), /invalid entry name/);
    await assert.rejects(into([[{ name: 'l', type: 'symlink', linkname: '/' }], [{ name: 'l/escaped', type: 'file' }, 'x']]), /escapes root/);
    await assert.rejects(into([[{ name: 'host-link/passwd', type: 'file' }, 'pwned']]), /escapes root/);
    await assert.rejects(into([[{ name: 'h', type: 'link', linkname: '../etc/passwd' }]]), /invalid hardlink target/);
    await assert.rejects(into([[{ name: 'ok', type: 'file' }, 'x']]), /cannot overwrite directory "ok" with non-directory/);
    assert.equal(readFileSync(join(outside, 'passwd'), 'utf8'), 'outside\n');
    assert.equal(existsSync(join(root, 'escaped')) || existsSync(join(base, 'escaped')), false);
  } finally {
    await cfs.close();
    rmSync(base, { recursive: true, force: true });
  }
});
