/**
 * The layer-store conformance suite (src/daemon/layers/conformance.ts) on
 * the overlay store, seen through a real overlay mount of each chain; then
 * what only overlay has: a container's upper dir read back as changes
 * (`docker diff`) and as a layer tar (`docker commit`) that, applied on the
 * same chain, gives the filesystem the container saw.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TEMP_PREFIX } from '../../src/lib/atomic-file.js';
import { mount, mountsUnder, unmount } from '../../src/lib/mount.js';
import { layerStoreConformance, layerTar, type LayerStoreHarness } from '../../src/daemon/layers/conformance.js';
import { OverlayLayerStore, overlayMount, type LayerStore } from '../../src/daemon/layers/layer-store.js';
import { upperChanges, upperLayerTar } from '../../src/daemon/layers/upper-dir.js';
import { installSpawner, Spawner } from '../../src/lib/spawner/client.js';
import { findSpawner } from '../../src/lib/spawner/locate.js';
import { readTar } from '../../src/lib/tar/index.js';
import type { Digest } from '../../src/oci/digest.js';

const dir = mkdtempSync('/tmp/berth-layer-conformance-');

/** An overlay of the chain with its own upper dir, as a container's rootfs. */
async function overlayOf(store: LayerStore, chainId: Digest, readOnly = false) {
  const base = await mkdtemp(join(dir, 'mnt-'));
  const [upper, work, merged] = ['upper', 'work', 'merged'].map((n) => join(base, n)) as [string, string, string];
  for (const d of [upper, work, merged]) mkdirSync(d);
  const lowers = await store.lowerDirs(chainId);
  const plan = overlayMount(lowers, upper, work);
  await mount(readOnly ? { ...plan, options: [...plan.options, 'ro'] } : plan, merged);
  return {
    lowers, upper, merged,
    async release() {
      await unmount(merged);
      await rm(base, { recursive: true, force: true });
    },
  };
}

const overlayStore = async (): Promise<LayerStoreHarness> => {
  const root = await mkdtemp(join(dir, 'layers-'));
  const store = new OverlayLayerStore(root);
  await store.init();
  return {
    store,
    view: async (chainId) => {
      const o = await overlayOf(store, chainId, true);
      return { dir: o.merged, release: () => o.release() };
    },
    inProgress: async () => (await readdir(root)).filter((n) => n.startsWith(TEMP_PREFIX)),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
};

layerStoreConformance('overlay layer store', overlayStore);
layerStoreConformance('overlay layer store, written by GNU tar', overlayStore, { writer: 'gnu-tar' });

test('overlay: a container\'s upper dir read back as changes and as a layer that rebuilds what it saw', async () => {
  const root = await mkdtemp(join(dir, 'layers-'));
  const store = new OverlayLayerStore(root);
  await store.init();
  const base = await store.apply(undefined, Readable.from([await layerTar([
    { name: 'etc/' }, { name: 'etc/keep', body: 'k' }, { name: 'etc/edit', body: 'before' }, { name: 'etc/gone', body: 'g' },
    { name: 'opq/' }, { name: 'opq/a', body: 'a' }, { name: 'opq/b', body: 'b' },
    { name: 'tree/' }, { name: 'tree/leaf', body: 'l' },
  ])]));
  const c = await overlayOf(store, base.chainId);
  try {
    // what a process in the container does
    writeFileSync(join(c.merged, 'etc/edit'), 'after');
    rmSync(join(c.merged, 'etc/gone'));
    rmSync(join(c.merged, 'tree'), { recursive: true });
    rmSync(join(c.merged, 'opq'), { recursive: true });
    mkdirSync(join(c.merged, 'opq'));
    writeFileSync(join(c.merged, 'opq/fresh'), 'f');
    writeFileSync(join(c.merged, 'added'), 'new');

    assert.deepEqual(await upperChanges(c.upper, c.lowers), [
      { Path: '/added', Kind: 1 },
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/edit', Kind: 0 },
      { Path: '/etc/gone', Kind: 2 },
      { Path: '/opq', Kind: 0 },
      { Path: '/opq/a', Kind: 2 },
      { Path: '/opq/b', Kind: 2 },
      { Path: '/opq/fresh', Kind: 1 },
      { Path: '/tree', Kind: 2 },
    ]);

    const committed = await store.apply(base.chainId, upperLayerTar(c.upper));
    const seen = await overlayOf(store, committed.chainId, true);
    try {
      const list = (rel: string) => readdirSync(join(seen.merged, rel)).sort();
      assert.deepEqual(list(''), ['added', 'etc', 'opq']);
      assert.deepEqual(list('etc'), ['edit', 'keep']);
      assert.deepEqual(list('opq'), ['fresh'], 'the re-made dir hides what the image had in it');
    } finally {
      await seen.release();
    }
  } finally {
    await c.release();
    await rm(root, { recursive: true, force: true });
  }
});

test('overlay: a small upper dir read by berth itself gives the tar and the changes GNU tar gives (links, whiteouts, opaque dirs, capabilities, devices, times)', async () => {
  const spawner = new Spawner((await findSpawner())!);
  installSpawner(spawner);
  const root = await mkdtemp(join(dir, 'layers-'));
  const store = new OverlayLayerStore(root);
  await store.init();
  const base = await store.apply(undefined, Readable.from([await layerTar([
    { name: 'etc/' }, { name: 'etc/a', body: 'a' }, { name: 'etc/b', body: 'b' }, { name: 'opq/' }, { name: 'opq/old', body: 'o' },
  ])]));
  const c = await overlayOf(store, base.chainId);
  try {
    rmSync(join(c.merged, 'etc/a')); // two whiteouts: one inode, linked twice in the upper dir
    rmSync(join(c.merged, 'etc/b'));
    rmSync(join(c.merged, 'opq'), { recursive: true });
    mkdirSync(join(c.merged, 'opq')); // made again: opaque
    writeFileSync(join(c.merged, 'opq/new'), 'n');
    mkdirSync(join(c.merged, 'bin'), { mode: 0o750 });
    writeFileSync(join(c.merged, 'bin/tool'), 'tool');
    chmodSync(join(c.merged, 'bin/tool'), 0o4755);
    execFileSync('setcap', ['cap_setuid,cap_net_bind_service+ep', join(c.merged, 'bin/tool')]);
    linkSync(join(c.merged, 'bin/tool'), join(c.merged, 'bin/tool-again'));
    symlinkSync('tool', join(c.merged, 'bin/link'));
    execFileSync('mkfifo', [join(c.merged, 'bin/pipe')]);
    execFileSync('mknod', [join(c.merged, 'bin/null'), 'c', '1', '3']);
    writeFileSync(join(c.merged, 'owned'), 'x');
    chownSync(join(c.merged, 'owned'), 1234, 5678);
    utimesSync(join(c.merged, 'owned'), new Date(1_700_000_000_123), new Date(1_700_000_000_123)); // a fraction of a second
    writeFileSync(join(c.merged, 'Ünïcode name'), 'u');

    const entries = async (tar: Readable) => {
      const out: unknown[] = [];
      for await (const e of readTar(tar)) {
        const chunks: Buffer[] = [];
        for await (const b of e.body) chunks.push(b);
        out.push({ ...e.header, body: Buffer.concat(chunks).toString('hex') });
      }
      return out;
    };
    const ours = await entries(upperLayerTar(c.upper));
    const gnu = await entries(upperLayerTar(c.upper, undefined, { reader: 'gnu-tar' }));
    assert.deepEqual(ours, gnu);
    const names = (ours as { name: string }[]).map((e) => e.name);
    for (const n of ['etc/.wh.a', 'etc/.wh.b', 'opq/.wh..wh..opq', 'bin/tool-again', 'bin/pipe', 'bin/null', 'owned', 'Ünïcode name']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    // docker diff's reading of the opaque markers: the spawner's, then GNU tar's
    const viaSpawner = await upperChanges(c.upper, c.lowers);
    installSpawner(undefined);
    const viaTar = await upperChanges(c.upper, c.lowers);
    installSpawner(spawner);
    assert.deepEqual(viaSpawner, viaTar);
    assert.ok(viaSpawner.some((ch) => ch.Path === '/opq/old' && ch.Kind === 2), 'the re-made dir hides what the image had in it');
    const tool = (ours as { name: string; pax: Record<string, string> }[]).find((e) => e.name === 'bin/tool')!;
    assert.equal(Buffer.from(tool.pax['SCHILY.xattr.security.capability']!, 'latin1').readUInt32LE(4), 0x480, 'cap_setuid (bit 7) and cap_net_bind_service (bit 10) kept');
  } finally {
    installSpawner(undefined);
    spawner.close();
    await c.release();
    await rm(root, { recursive: true, force: true });
  }
});

test('overlay: the suite left no mount behind', async () => {
  assert.deepEqual(await mountsUnder(dir), []);
});

after(async () => {
  for (const m of (await mountsUnder(dir)).sort((a, b) => b.length - a.length)) await unmount(m, true).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});
