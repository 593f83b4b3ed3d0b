import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InvalidParameter } from '../../errdefs/index.js';
import { sha256Digest, sha256Hex } from '../../oci/digest.js';
import { FileContentStore } from '../content/content-store.js';
import { ImageStore } from './image-store.js';

const config = (cmd: string) => Buffer.from(JSON.stringify({
  architecture: 'amd64', os: 'linux', config: { Cmd: [cmd] }, rootfs: { type: 'layers', diff_ids: [] },
}));

async function stores(root: string) {
  const content = new FileContentStore(join(root, 'content'));
  await content.init();
  const images = new ImageStore(join(root, 'images'), content);
  await images.init();
  return { content, images };
}

test('create: the config blob and the record, found again after a restart; a bad config writes nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-images-'));
  try {
    const { content, images } = await stores(root);
    const bytes = config('sh');
    const img = await images.create(bytes, { size: 0 });
    assert.equal(img.id, sha256Digest(bytes));
    assert.deepEqual(img.config.config?.Cmd, ['sh']);
    assert.equal(await images.create(bytes, { size: 0 }), img, 'the same config is the same image');
    assert.ok(await content.has(img.id));
    const bad = Buffer.from('{"rootfs": 1}');
    await assert.rejects(images.create(bad, { size: 0 }), InvalidParameter);
    assert.equal(await content.has(sha256Digest(bad)), false, 'checked before any write');
    assert.deepEqual(await readdir(join(root, 'images', 'db')), [`${sha256Hex(img.id)}.json`]);
    const again = await stores(root);
    assert.deepEqual(again.images.get(img.id)?.config, img.config);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a record whose config blob never landed (a crash between the two writes) is dropped at start', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-images-'));
  try {
    const { images } = await stores(root);
    const kept = await images.create(config('kept'), { size: 0 });
    const lost = sha256Digest(config('lost'));
    await writeFile(join(root, 'images', 'db', `${sha256Hex(lost)}.json`), JSON.stringify({ id: lost, size: 0, repoDigests: [] }));
    const again = await stores(root);
    assert.equal(again.images.get(lost), undefined);
    assert.ok(again.images.get(kept.id));
    assert.deepEqual(await readdir(join(root, 'images', 'db')), [`${sha256Hex(kept.id)}.json`]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
