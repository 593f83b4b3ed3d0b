/**
 * Bad archives and crashes: each bad input gets a clear error and leaves
 * the store as it was (no image, layer, blob or temp file added); a berthd
 * killed with SIGKILL in the middle of a load restarts with no half image
 * and a retried load succeeds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { ociLayout, packBinary, tarOf, withDockerManifest } from '../support/archives.js';

describe('image faults', () => {
  let d: TestDaemon;
  let baseline: string;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    baseline = snapshot();
  });
  after(async () => {
    await d?.destroy();
  });

  /** Everything the image side keeps on disk, as one comparable string. */
  function snapshot(): string {
    const ls = (p: string) => (existsSync(join(d.dataRoot, p)) ? readdirSync(join(d.dataRoot, p)).sort().join(',') : '');
    return ['content/blobs/sha256', 'content/ingest', 'content/diffids', 'layers', 'images/db', 'tmp'].map((p) => `${p}=${ls(p)}`).join('\n');
  }

  async function loadFails(archive: Buffer, message: RegExp): Promise<void> {
    const file = join(d.dir, 'bad.tar');
    writeFileSync(file, archive);
    const r = await d.docker(['load', '-i', file]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, message);
    assert.equal(snapshot(), baseline, 'the store is as it was');
    assert.equal((await d.docker(['images', '-q'])).stdout.trim().split('\n').length, 1);
  }

  const goodLayer = () => tarOf([{ name: 'ok.txt', body: 'fine\n' }]);

  test('a truncated archive', async () => {
    const tar = await packBinary(withDockerManifest(ociLayout([await goodLayer(), await tarOf([{ name: 'big', body: 'x'.repeat(20000) }])]), ['trunc:1']).files);
    await loadFails(tar.subarray(0, Math.floor(tar.length * 0.6)), /unexpected end of tar archive/);
  });

  test('a corrupt archive (bad header checksum)', async () => {
    const tar = Buffer.from(await packBinary(ociLayout([await goodLayer()]).files));
    tar[20] = 0x7a;
    await loadFails(tar, /invalid image archive: invalid tar header checksum/);
  });

  test('a corrupt archive refused while the client is still sending it: the client reads the answer, not a broken pipe', async () => {
    // before: the failed read destroyed the request, i.e. reset the connection under the client's upload
    const tar = Buffer.concat([Buffer.from(await packBinary(ociLayout([await goodLayer()]).files)), Buffer.alloc(4 << 20)]);
    tar[20] = 0x7a;
    for (let i = 0; i < 3; i++) await loadFails(tar, /invalid image archive: invalid tar header checksum/);
  });

  test('a blob whose bytes do not match its digest', async () => {
    const img = ociLayout([await goodLayer()], { name: 'docker.io/library/wrong:1' });
    const path = `blobs/sha256/${img.diffIds[0]!.slice(7)}`;
    img.files.set(path, await tarOf([{ name: 'ok.txt', body: 'evil\n' }]));
    await loadFails(await packBinary(img.files), /digest mismatch/);
  });

  test('a manifest naming a blob that is not in the archive', async () => {
    const img = withDockerManifest(ociLayout([await goodLayer()]), ['missing:1'], [`blobs/sha256/${'0'.repeat(64)}`]);
    await loadFails(await packBinary(img.files), /invalid image archive: layer 0 of image 0 blobs\/sha256\/0{64} is not in the archive/);
  });

  test('a layer whose diffID is not the one the config names', async () => {
    const img = ociLayout([await goodLayer()], { name: 'docker.io/library/liar:1' });
    const other = await tarOf([{ name: 'other.txt', body: 'other\n' }]);
    // the manifest points at another (valid) blob than the config's diffID
    const { createHash } = await import('node:crypto');
    const otherDigest = `sha256:${createHash('sha256').update(other).digest('hex')}`;
    img.files.set(`blobs/sha256/${otherDigest.slice(7)}`, other);
    const fixed = withDockerManifest(img, ['liar:1'], [`blobs/sha256/${otherDigest.slice(7)}`]);
    await loadFails(await packBinary(fixed.files), /layer 0 has diff id sha256:[0-9a-f]{64}, the config says/);
  });

  test('a layer entry climbing out with ../ is refused and nothing is written outside', async () => {
    const evil = await tarOf([{ name: 'ok.txt', body: 'fine\n' }, { name: '../../../escaped-by-berth-test', body: 'pwned' }]);
    await loadFails(await packBinary(ociLayout([evil], { name: 'docker.io/library/evil:1' }).files), /escapes the layer root/);
    assert.equal(existsSync(join(d.dataRoot, 'escaped-by-berth-test')), false);
    assert.equal(existsSync('/escaped-by-berth-test'), false);
  });

  test('a symlink then an entry through it, and a hard link to outside, are refused', async () => {
    const viaLink = await tarOf([{ name: 'lnk', type: 'symlink', linkname: '/etc' }, { name: 'lnk/passwd', body: 'x' }]);
    await loadFails(await packBinary(ociLayout([viaLink]).files), /entry reached through a symlink "lnk\/passwd"/);
    const hard = await tarOf([{ name: 'h', type: 'link', linkname: '../../etc/shadow' }]);
    await loadFails(await packBinary(ociLayout([hard]).files), /hard link target "..\/..\/etc\/shadow" escapes the layer root/);
  });

  test('not an archive at all gets a 400 and a clear message', async () => {
    const res = await d.http('POST', '/images/load?quiet=1', 'this is not a tar archive, just some text that is long enough to fill a header block'.repeat(8), { 'Content-Type': 'application/x-tar' });
    assert.equal(res.status, 400);
    assert.match(JSON.parse(res.body).message, /invalid image archive/);
    assert.equal(snapshot(), baseline);
  });

  test('kill -9 in the middle of a load leaves no half image; a retried load succeeds', async () => {
    const big = await tarOf([{ name: 'big.bin', body: 'z'.repeat(48 << 20) }]);
    const archive = await packBinary(withDockerManifest(ociLayout([await goodLayer(), big]), ['crash:1']).files);
    // send two thirds of it, wait until the daemon has stored part, then kill it
    const sent = Math.floor(archive.length * 0.66);
    const req = request({ socketPath: d.socket, path: '/images/load?quiet=1', method: 'POST', headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } });
    req.on('error', () => {});
    req.write(archive.subarray(0, sent));
    const ingest = join(d.dataRoot, 'content', 'blobs', 'sha256');
    const before = readdirSync(ingest).length;
    for (let i = 0; i < 100 && readdirSync(ingest).length === before; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(readdirSync(ingest).length > before, 'the load had stored some blobs');
    d.kill9();
    req.destroy();
    await d.launch();
    assert.equal(snapshot(), baseline, 'the start-up sweep removed what the load had stored');
    assert.equal((await d.docker(['images', '--format', '{{.Repository}}'])).stdout, 'busybox\n');

    const file = join(d.dir, 'crash.tar');
    writeFileSync(file, archive);
    const retry = await d.docker(['load', '-i', file]);
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(retry.stdout, 'Loaded image: crash:1\n');
    // the image has no shell: look at its files through a container's export
    assert.equal((await d.docker(['create', '--name', 'crashed', 'crash:1', 'x'])).code, 0);
    const files = execFileSync('sh', ['-c', `DOCKER_HOST=${d.host} docker export crashed | tar t`], { encoding: 'utf8' });
    assert.match(files, /^ok\.txt$/m);
    assert.match(files, /^big\.bin$/m);
    await d.docker(['rm', 'crashed']);
  });
});
