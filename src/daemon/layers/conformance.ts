/**
 * The layer-store conformance suite: what images, pulls, builds and
 * containers may rely on from any `LayerStore` (layer-store.ts). The check
 * is on the filesystem a container would see for a chain — the overlay of
 * `lowerDirs` for the overlay store (e2e, root), the one flattened dir of
 * the copy store (unit test) — so both stores answer the same questions.
 *
 *   layerStoreConformance('copy', async () => ({
 *     store, view: async (chain) => ({ dir: (await store.lowerDirs(chain))[0], release: async () => {} }),
 *     inProgress: () => temp dirs of the store, cleanup,
 *   }));
 */
import assert from 'node:assert/strict';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Readable } from 'node:stream';
import { InvalidParameter, NotFound } from '../../errdefs/index.js';
import { sha256Digest, type Digest } from '../../oci/digest.js';
import { headerDefaults, TarWriter, type TarEntryType } from '../../lib/tar/index.js';
import type { LayerStore, UnpackOptions } from './layer-store.js';

export interface LayerStoreHarness {
  store: LayerStore;
  /** The filesystem of chain `chainId` as a container's rootfs would show it. */
  view(chainId: Digest): Promise<{ dir: string; release(): Promise<void> }>;
  /** Unpacks in progress the store keeps on the side (temp dirs). */
  inProgress(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export interface LayerEntry {
  name: string;
  type?: TarEntryType;
  body?: string;
  mode?: number;
  linkname?: string;
  uid?: number;
  gid?: number;
  mtime?: number;
}

/** An uncompressed layer tar with these entries, as bytes (its sha256 is the diff id). */
export async function layerTar(entries: LayerEntry[]): Promise<Buffer> {
  const w = new TarWriter();
  const chunks: Buffer[] = [];
  w.stream.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => w.stream.once('end', r));
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'dir' : 'file');
    const body = e.body ?? '';
    await w.add(headerDefaults({
      name: e.name, type, mtime: e.mtime ?? 1_700_000_000, ...(e.mode !== undefined ? { mode: e.mode } : {}),
      ...(e.uid !== undefined ? { uid: e.uid } : {}), ...(e.gid !== undefined ? { gid: e.gid } : {}),
      ...(type === 'file' ? { size: Buffer.byteLength(body) } : {}), ...(e.linkname ? { linkname: e.linkname } : {}),
    }), type === 'file' ? body : undefined);
  }
  await w.finish();
  await ended;
  return Buffer.concat(chunks);
}

/**
 * A tree as text, one line per path, sorted: `dir 755`, `file 644 <content>`,
 * `symlink -> target`. Hard links show as `link#n` with a shared n.
 */
async function describe(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, number>();
  const linkNo = (ino: number) => {
    if (!inodes.has(ino)) inodes.set(ino, inodes.size + 1);
    return inodes.get(ino)!;
  };
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, path));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[path] = `dir ${mode}`;
        await walk(path);
      } else if (st.isSymbolicLink()) {
        out[path] = `symlink -> ${await readlink(join(root, path))}`;
      } else if (st.isFile()) {
        out[path] = `file ${mode} ${await readFile(join(root, path), 'utf8')}${st.nlink > 1 ? ` link#${linkNo(st.ino)}` : ''}`;
      } else {
        out[path] = `other ${st.mode.toString(8)}`;
      }
    }
  };
  await walk('');
  return out;
}

/** `unpack`: how the suite's layers are written (berth's writer by default, or GNU tar alone). */
export function layerStoreConformance(label: string, make: () => Promise<LayerStoreHarness>, unpack: UnpackOptions = {}): void {
  const withStore = (name: string, fn: (h: LayerStoreHarness) => Promise<void>) => test(`${label}: ${name}`, async () => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.cleanup();
    }
  });

  const tree = async (h: LayerStoreHarness, chainId: Digest) => {
    const v = await h.view(chainId);
    try {
      return await describe(v.dir);
    } finally {
      await v.release();
    }
  };

  const apply = async (h: LayerStoreHarness, parent: Digest | undefined, entries: LayerEntry[]) =>
    h.store.apply(parent, Readable.from([await layerTar(entries)]), unpack);

  withStore('a base layer: files, dirs, modes, symlinks and hard links as the tar has them', async (h) => {
    const tar = await layerTar([
      { name: 'bin/' },
      { name: 'bin/sh', body: 'shell', mode: 0o755 },
      { name: 'bin/ash', type: 'link', linkname: 'bin/sh' },
      { name: 'etc/', mode: 0o750 },
      { name: 'etc/passwd', body: 'root', mode: 0o600 },
      { name: 'usr/' },
      { name: 'usr/bin', type: 'symlink', linkname: '../bin' },
      { name: 'tmp/', mode: 0o1777 },
    ]);
    const info = await h.store.apply(undefined, Readable.from([tar]), unpack);
    const diffId = sha256Digest(tar);
    assert.deepEqual(info, { chainId: diffId, diffId, size: 'shell'.length + 'root'.length, tarSize: tar.length });
    assert.deepEqual(await h.store.get(diffId), info);
    assert.equal(await h.store.has(diffId), true);
    assert.deepEqual(await h.store.list(), [info]);
    assert.deepEqual(await tree(h, diffId), {
      'bin': 'dir 755',
      'bin/ash': 'file 755 shell link#1',
      'bin/sh': 'file 755 shell link#1',
      'etc': 'dir 750',
      'etc/passwd': 'file 600 root',
      'tmp': 'dir 1777',
      'usr': 'dir 755',
      'usr/bin': 'symlink -> ../bin',
    });
    assert.deepEqual(await h.inProgress(), []);
  });

  withStore('mtimes, owners (as root), and files inside a read-only dir, as the tar has them', async (h) => {
    const asRoot = process.getuid?.() === 0;
    const owner = asRoot ? { uid: 1000, gid: 1001 } : {};
    const info = await apply(h, undefined, [
      { name: 'ro/', mode: 0o555, mtime: 1_600_000_000, ...owner },
      { name: 'ro/f', body: 'x', mode: 0o4755, mtime: 1_500_000_000, ...owner },
      { name: 'ro/l', type: 'symlink', linkname: 'f', mtime: 1_400_000_000, ...owner },
      { name: 'deep/er/file', body: 'no parents listed' },
    ]);
    const v = await h.view(info.chainId);
    try {
      const [dir, file, link] = await Promise.all(['ro', 'ro/f', 'ro/l'].map((p) => lstat(join(v.dir, p))));
      assert.equal(dir!.mode & 0o7777, 0o555);
      assert.equal(file!.mode & 0o7777, 0o4755, 'setuid kept after the owner is set');
      assert.deepEqual([dir!.mtimeMs, file!.mtimeMs, link!.mtimeMs], [1_600_000_000_000, 1_500_000_000_000, 1_400_000_000_000]);
      if (asRoot) for (const st of [dir!, file!, link!]) assert.deepEqual([st.uid, st.gid], [1000, 1001]);
      assert.equal(await readFile(join(v.dir, 'deep/er/file'), 'utf8'), 'no parents listed');
    } finally {
      await v.release();
    }
  });

  withStore('a layer of more entries than berth writes itself: links, dirs and modes across the handover to tar', async (h) => {
    const many = Array.from({ length: 150 }, (_, i) => ({ name: `d/f${String(i).padStart(3, '0')}`, body: `n${i}`, mode: 0o640 }));
    const info = await apply(h, undefined, [
      { name: 'd/', mode: 0o550, mtime: 1_600_000_000 },
      { name: 'd/first', body: 'early' },
      ...many,
      { name: 'd/late-link', type: 'link', linkname: 'd/first' },
      { name: 'd/late/', mode: 0o700 },
      { name: 'd/late/file', body: 'after', mode: 0o4755 },
    ]);
    const t = await tree(h, info.chainId);
    assert.equal(Object.keys(t).length, 155);
    assert.equal(t['d'], 'dir 550');
    assert.equal(t['d/first'], 'file 644 early link#1');
    assert.equal(t['d/late-link'], 'file 644 early link#1');
    assert.equal(t['d/f149'], 'file 640 n149');
    assert.equal(t['d/late'], 'dir 700');
    assert.equal(t['d/late/file'], 'file 4755 after');
    const v = await h.view(info.chainId);
    try {
      assert.equal((await lstat(join(v.dir, 'd'))).mtimeMs, 1_600_000_000_000, 'the dir berth made keeps its mtime after tar wrote into it');
    } finally {
      await v.release();
    }
  });

  withStore('whiteouts remove files and whole trees of the layers below, and only in the new chain', async (h) => {
    const base = await apply(h, undefined, [
      { name: 'a/' }, { name: 'a/keep', body: 'k' }, { name: 'a/gone', body: 'g' },
      { name: 'd/' }, { name: 'd/x/' }, { name: 'd/x/y', body: 'y' },
    ]);
    const tar = await layerTar([{ name: 'a/.wh.gone' }, { name: '.wh.d' }, { name: 'new', body: 'n' }]);
    const top = await h.store.apply(base.chainId, Readable.from([tar]), unpack);
    assert.equal(top.chainId, sha256Digest(`${base.chainId} ${sha256Digest(tar)}`));
    assert.equal(top.parent, base.chainId);
    assert.equal(top.size, 1, 'whiteouts are not file bytes');
    assert.deepEqual(await tree(h, top.chainId), { 'a': 'dir 755', 'a/keep': 'file 644 k', 'new': 'file 644 n' });
    assert.deepEqual(Object.keys(await tree(h, base.chainId)), ['a', 'a/gone', 'a/keep', 'd', 'd/x', 'd/x/y'], 'the parent chain is untouched');
    // a third layer sees through both
    const third = await apply(h, top.chainId, [{ name: 'a/.wh.keep' }, { name: 'd/' }, { name: 'd/again', body: 'd' }]);
    assert.deepEqual(await tree(h, third.chainId), { 'a': 'dir 755', 'd': 'dir 755', 'd/again': 'file 644 d', 'new': 'file 644 n' });
  });

  withStore('an opaque dir hides what the layers below had in it, not its own layer\'s entries', async (h) => {
    const base = await apply(h, undefined, [{ name: 'o/' }, { name: 'o/old', body: '1' }, { name: 'o/sub/' }, { name: 'o/sub/deep', body: '2' }, { name: 'other', body: '3' }]);
    const top = await apply(h, base.chainId, [
      { name: 'o/', mode: 0o700 },
      { name: 'o/first', body: 'f' }, // before the marker: still this layer's
      { name: 'o/.wh..wh..opq' },
      { name: 'o/second', body: 's' },
    ]);
    assert.deepEqual(await tree(h, top.chainId), {
      'o': 'dir 700', 'o/first': 'file 644 f', 'o/second': 'file 644 s', 'other': 'file 644 3',
    });
  });

  withStore('a file replaced by a dir and a dir by a symlink, across layers', async (h) => {
    const base = await apply(h, undefined, [{ name: 'x', body: 'file' }, { name: 'y/' }, { name: 'y/z', body: 'z' }]);
    const top = await apply(h, base.chainId, [{ name: 'x/' }, { name: 'x/inner', body: 'i' }, { name: 'y', type: 'symlink', linkname: 'x' }]);
    assert.deepEqual(await tree(h, top.chainId), { 'x': 'dir 755', 'x/inner': 'file 644 i', 'y': 'symlink -> x' });
  });

  withStore('a hard link in an upper layer to a file of the same layer', async (h) => {
    const base = await apply(h, undefined, [{ name: 'f', body: 'old' }]);
    const top = await apply(h, base.chainId, [{ name: 'f', body: 'new' }, { name: 'g', type: 'link', linkname: 'f' }]);
    assert.deepEqual(await tree(h, top.chainId), { f: 'file 644 new link#1', g: 'file 644 new link#1' });
    assert.deepEqual(await tree(h, base.chainId), { f: 'file 644 old' });
  });

  withStore('an unknown parent: NotFound, nothing kept', async (h) => {
    await assert.rejects(apply(h, sha256Digest('nothing'), [{ name: 'f', body: 'x' }]), NotFound);
    await assert.rejects(h.store.get(sha256Digest('nothing')), NotFound);
    assert.deepEqual(await h.store.list(), []);
    assert.deepEqual(await h.inProgress(), []);
  });

  withStore('entries that climb out or pass through a symlink are refused, nothing kept', async (h) => {
    await assert.rejects(apply(h, undefined, [{ name: '../escape', body: 'x' }]), InvalidParameter);
    await assert.rejects(apply(h, undefined, [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/passwd', body: 'x' }]), InvalidParameter);
    await assert.rejects(apply(h, undefined, [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }]), InvalidParameter);
    assert.deepEqual(await h.store.list(), []);
    assert.deepEqual(await h.inProgress(), []);
  });

  withStore('unpack then commit is apply; the same layer twice, or at once, is one layer', async (h) => {
    const tar = await layerTar([{ name: 'same', body: 'bytes' }]);
    const unpacked = await h.store.unpack(Readable.from([tar]), unpack);
    assert.equal(unpacked.diffId, sha256Digest(tar));
    const committed = await h.store.commit(undefined, unpacked);
    assert.deepEqual(await h.store.apply(undefined, Readable.from([tar]), unpack), committed);
    const parallel = await Promise.all([1, 2, 3].map(() => h.store.apply(committed.chainId, Readable.from([Buffer.from(tar)]), unpack)));
    assert.equal(new Set(parallel.map((p) => p.chainId)).size, 1);
    assert.equal((await h.store.list()).length, 2);
    assert.deepEqual(await tree(h, parallel[0]!.chainId), { same: 'file 644 bytes' });
    assert.deepEqual(await h.inProgress(), []);
  });

  withStore('remove: the layer is gone from has, get and list', async (h) => {
    const a = await apply(h, undefined, [{ name: 'a', body: 'a' }]);
    const b = await apply(h, undefined, [{ name: 'b', body: 'b' }]);
    await h.store.remove(a.chainId);
    assert.equal(await h.store.has(a.chainId), false);
    await assert.rejects(h.store.get(a.chainId), NotFound);
    assert.deepEqual((await h.store.list()).map((l) => l.chainId), [b.chainId]);
    await h.store.remove(a.chainId); // twice: nothing to do
    assert.deepEqual(await h.inProgress(), []);
  });
}
