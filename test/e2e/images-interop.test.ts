/**
 * Interoperability with tools that are not Docker: skopeo (Debian) converts
 * between OCI layouts and Docker archives, umoci (Debian) unpacks OCI
 * layouts. A layered image made outside berth (a deleted file, an opaque
 * directory, a hard link, a symlink) runs in berth with exactly the right
 * files visible, and what berth saves unpacks the same in umoci.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { ociLayout, tarOf, writeLayoutDir } from '../support/archives.js';

describe('images with skopeo and umoci', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  const ok = (args: string[]) => d.dockerOk(args);
  const skopeo = (...args: string[]) => execFileSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  /** busybox's own layer as the base, then three layers made with our tar writer. */
  async function layeredImage(): Promise<Buffer[]> {
    const saved = join(d.dir, 'base.tar');
    await ok(['save', '-o', saved, 'busybox']);
    const manifest = JSON.parse(execFileSync('tar', ['xOf', saved, 'manifest.json'], { encoding: 'utf8' })) as { Layers: string[] }[];
    const base = execFileSync('tar', ['xOf', saved, manifest[0]!.Layers[0]!], { maxBuffer: 64 << 20 });
    const l1 = await tarOf([
      { name: 'data/' }, { name: 'data/keep.txt', body: 'keep\n' }, { name: 'data/gone.txt', body: 'gone\n' },
      { name: 'data/hard', body: 'linked\n' }, { name: 'data/hardlink', type: 'link', linkname: 'data/hard' },
      { name: 'data/sym', type: 'symlink', linkname: 'keep.txt' }, { name: 'data/exec.sh', body: '#!/bin/sh\necho run\n', mode: 0o755 },
      { name: 'opq/' }, { name: 'opq/old1', body: '1' }, { name: 'opq/old2', body: '2' },
    ]);
    const l2 = await tarOf([
      { name: 'data/' }, { name: 'data/.wh.gone.txt' },
      { name: 'opq/' }, { name: 'opq/.wh..wh..opq' }, { name: 'opq/new', body: 'new\n' },
    ]);
    const l3 = await tarOf([{ name: 'data/added.txt', body: 'added\n' }]);
    return [base, l1, l2, l3];
  }

  test('a layered OCI image made outside berth runs with exactly the right files', async () => {
    const layout = join(d.dir, 'layered-oci');
    writeLayoutDir(ociLayout(await layeredImage(), { gzip: true, name: 'layered' }), layout);
    const archive = join(d.dir, 'layered-docker.tar');
    skopeo('copy', `oci:${layout}:layered`, `docker-archive:${archive}:ext/layered:v1`);
    assert.equal(await ok(['load', '-i', archive]), 'Loaded image: ext/layered:v1\n');
    const script = 'ls /data; echo --; ls /opq; echo --; readlink /data/sym; stat -c %i /data/hard /data/hardlink | uniq | wc -l; /data/exec.sh; cat /data/keep.txt';
    assert.equal(await ok(['run', '--rm', 'ext/layered:v1', 'sh', '-c', script]),
      'added.txt\nexec.sh\nhard\nhardlink\nkeep.txt\nsym\n--\nnew\n--\nkeep.txt\n1\nrun\nkeep\n');
    const history = (await ok(['history', '-q', 'ext/layered:v1'])).trim().split('\n');
    assert.equal(history.length, 4);
    assert.deepEqual(history.slice(1), ['<missing>', '<missing>', '<missing>']);
  });

  test('what berth saves, skopeo reads and umoci unpacks with the same files', async () => {
    const saved = join(d.dir, 'layered-saved.tar');
    await ok(['save', '-o', saved, 'ext/layered:v1']);
    const layout = join(d.dir, 'from-berth');
    skopeo('copy', `docker-archive:${saved}`, `oci:${layout}:x`);
    const direct = join(d.dir, 'from-berth-oci');
    skopeo('copy', `oci-archive:${saved}:v1`, `oci:${direct}:y`);
    const bundle = join(d.dir, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:x`, bundle], { stdio: 'ignore' });
    const root = join(bundle, 'rootfs');
    assert.equal(readFileSync(join(root, 'data/added.txt'), 'utf8'), 'added\n');
    assert.equal(existsSync(join(root, 'data/gone.txt')), false);
    assert.equal(existsSync(join(root, 'opq/old1')), false);
    assert.equal(readFileSync(join(root, 'opq/new'), 'utf8'), 'new\n');
    assert.equal(readlinkSync(join(root, 'data/sym')), 'keep.txt');
    assert.equal(statSync(join(root, 'data/hard')).ino, statSync(join(root, 'data/hardlink')).ino);
    assert.ok(existsSync(join(root, 'bin/busybox')));
  });

  test('an image skopeo writes as an OCI archive loads back, and berth loads what it saved after an rmi', async () => {
    const ociArchive = join(d.dir, 'bb-oci.tar');
    skopeo('copy', `docker-archive:${join(d.dir, 'base.tar')}`, `oci-archive:${ociArchive}:docker.io/library/viaoci:1`);
    assert.equal(await ok(['load', '-i', ociArchive]), 'Loaded image: viaoci:1\n');
    assert.equal(await ok(['run', '--rm', 'viaoci:1', 'echo', 'through skopeo']), 'through skopeo\n');
    // two images with a common base hold one copy of it
    const layers = execFileSync('ls', [join(d.dataRoot, 'layers')], { encoding: 'utf8' }).trim().split('\n').filter((n) => /^[a-f0-9]{64}$/.test(n));
    const inspect = JSON.parse(await ok(['image', 'inspect', 'busybox', 'viaoci:1', 'ext/layered:v1'])) as { RootFS: { Layers: string[] } }[];
    const distinct = new Set(inspect.flatMap((i) => i.RootFS.Layers));
    assert.equal(layers.length, distinct.size);
  });
});
