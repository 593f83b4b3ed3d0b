import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { headerDefaults, TarWriter, type TarHeader } from '../../lib/tar/index.js';
import { emptyContext, unpackContext } from './context.js';

function tarOf(entries: [Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>, (string | Buffer)?][]): Readable {
  const tar = new TarWriter();
  void (async () => {
    for (const [h, body] of entries) await tar.add(headerDefaults({ ...h, size: body?.length ?? 0 }), body);
    await tar.finish();
  })();
  return tar.stream;
}

test('files are hashed as they arrive and held: placeholders of their size and mode until written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
  try {
    const { hashes, held } = await unpackContext(tarOf([[{ name: 'a/', type: 'dir' }], [{ name: 'a/f.txt', type: 'file', mode: 0o600 }, 'hello'], [{ name: 'h', type: 'link', linkname: 'a/f.txt' }]]), dir);
    const st = statSync(join(dir, 'a/f.txt'));
    assert.equal(st.size, 5);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.blocks, 0); // sparse: no content written
    assert.equal(held.has(join(dir, 'h')), true);
    const chunks: Buffer[] = [];
    for await (const c of held.body(join(dir, 'h'))!) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
    await held.write(join(dir, 'h')); // a link's name writes the inode it shares
    assert.equal(readFileSync(join(dir, 'a/f.txt'), 'utf8'), 'hello');
    assert.equal(held.has(join(dir, 'a/f.txt')), false);
    assert.equal(held.body(join(dir, 'a/f.txt')), undefined);
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
    const { held } = await unpackContext(tarOf([[{ name: 'esc', type: 'symlink', linkname: outside }], [{ name: 'esc/pwned', type: 'file' }, 'x']]), dir);
    await held.write();
    assert.equal(existsSync(join(outside, 'pwned')), false);
    assert.equal(readFileSync(join(dir, outside, 'pwned'), 'utf8'), 'x'); // the link resolved inside the context
    await assert.rejects(unpackContext(tarOf([[{ name: 'l', type: 'link', linkname: '../../etc/passwd' }]]), dir), /escapes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('a held file replaced by a later entry: a hard link to it keeps the first content', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
  try {
    const { held } = await unpackContext(tarOf([[{ name: 'f', type: 'file' }, 'first'], [{ name: 'h', type: 'link', linkname: 'f' }], [{ name: 'f', type: 'file' }, 'second!']]), dir);
    await held.write();
    assert.equal(readFileSync(join(dir, 'h'), 'utf8'), 'first');
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'second!');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an incremental upload takes referenced files from the store, keeps what arrives, and refuses a wrong size', async () => {
  const { ContextStore } = await import('./context-store.js');
  const root = mkdtempSync(join(tmpdir(), 'ctx-'));
  const sum = (s: string) => createHash('sha256').update(s).digest('hex');
  const ref = (name: string, body: string, size = body.length) => [{ name, type: 'file' as const, pax: { 'BERTH.digest': `sha256:${sum(body)}`, 'BERTH.size': String(size) } }] as [Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>];
  try {
    const store = new ContextStore(join(root, 'store'));
    // a content sent once and referred to later in the same upload
    const first = await unpackContext(tarOf([[{ name: 'a', type: 'file' }, 'hello'], ref('b', 'hello')]), join(root, 'one'), Infinity, undefined, undefined, store);
    assert.deepEqual(first.received, { bytes: 5, stored: 1, unchanged: 0 });
    const second = await unpackContext(tarOf([ref('a', 'hello')]), join(root, 'two'), Infinity, undefined, undefined, store);
    assert.deepEqual(second.received, { bytes: 0, stored: 1, unchanged: 0 });
    assert.equal(second.hashes.get(join(root, 'two', 'a')), sum('hello'));
    await second.held.write();
    assert.equal(readFileSync(join(root, 'two', 'a'), 'utf8'), 'hello');
    second.held.release();
    first.held.release();
    await assert.rejects(unpackContext(tarOf([ref('a', 'hello', 4)]), join(root, 'three'), Infinity, undefined, undefined, store), /is 5 bytes, not 4/);
    // without a store (the docker CLI's upload) the record means nothing: an empty file
    const plain = await unpackContext(tarOf([ref('a', 'hello')]), join(root, 'four'));
    assert.equal(statSync(join(root, 'four', 'a')).size, 0);
    plain.held.release();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the docker CLI's upload: a large file sent again with the same bytes is read from the store, a changed one is taken whole", async () => {
  const { ContextStore } = await import('./context-store.js');
  const { COMPARE_MIN } = await import('./context.js');
  const root = mkdtempSync(join(tmpdir(), 'ctx-'));
  const sum = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const big = Buffer.alloc(COMPARE_MIN * 3 + 12345);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;
  const upload = (dir: string, body: Buffer, store: InstanceType<typeof ContextStore>) =>
    unpackContext(tarOf([[{ name: 'big.bin', type: 'file', mode: 0o640 }, body], [{ name: 'small', type: 'file' }, 'x']]), join(root, dir), Infinity, undefined, undefined, store, false);
  const contents = async (u: Awaited<ReturnType<typeof upload>>, path: string) => {
    const chunks: Buffer[] = [];
    for await (const c of u.held.body(path)!) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  try {
    const store = new ContextStore(join(root, 'store'));
    const first = await upload('one', big, store);
    assert.deepEqual(first.received, { bytes: big.length + 1, stored: 0, unchanged: 0 });
    first.held.release();
    const again = await upload('two', big, store);
    assert.deepEqual(again.received, { bytes: big.length + 1, stored: 0, unchanged: 1 });
    const path = join(root, 'two', 'big.bin');
    assert.equal(again.hashes.get(path), sum(big));
    assert.equal(statSync(path).size, big.length);
    assert.equal(statSync(path).blocks, 0);
    assert.equal(statSync(path).mode & 0o777, 0o640);
    assert.ok((await contents(again, path)).equals(big));
    again.held.release();
    // one byte changed past the first MiB, then one in the first chunk: hashed and held whole
    for (const at of [COMPARE_MIN + 100, 3]) {
      const changed = Buffer.from(big);
      changed[at]! ^= 0xff;
      const dir = `changed-${at}`;
      const u = await upload(dir, changed, store);
      assert.equal(u.received.unchanged, 0);
      const p = join(root, dir, 'big.bin');
      assert.equal(u.hashes.get(p), sum(changed));
      assert.ok((await contents(u, p)).equals(changed));
      u.held.release();
    }
    // an upload cut short while the file still matches leaves no pin either (the builder releases what it made)
    (await upload('again-2', big, store)).held.release();
    const whole: Buffer[] = [];
    for await (const c of tarOf([[{ name: 'big.bin', type: 'file', mode: 0o640 }, big]])) whole.push(c as Buffer);
    const cut = emptyContext();
    await assert.rejects(unpackContext(Readable.from([Buffer.concat(whole).subarray(0, 512 + COMPARE_MIN + 100)]), join(root, 'cut'), Infinity, cut, undefined, store, false));
    cut.held.release();
    assert.equal((await store.usage()).inUse, false); // every pin went with its build
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
