/**
 * `berth build`'s incremental context (docs/build.md, "The incremental
 * context"): the CLI asks which file contents berthd lacks and sends only
 * those; berthd assembles the rest from its context store. What the upload
 * carried is read from GET /debug/spans (berthd --debug), not from timings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { headerDefaults, TarWriter, type TarHeader } from '../../src/lib/tar/index.js';
import { TestDaemon, type CommandOptions } from '../support/daemon.js';

interface Trace { name: string; startedAt: string; spans: { name: string }[] }

const BIG = 20 << 20;

describe('berth build: incremental context', () => {
  let d: TestDaemon;
  let ctx: string;
  let cache: string;
  let cli: CommandOptions;
  const big = randomBytes(BIG);
  const bigSum = createHash('sha256').update(big).digest('hex');

  before(async () => {
    d = await TestDaemon.start({ extraArgs: ['--debug'] });
    await d.busybox();
    ctx = mkdtempSync('/tmp/berth-incr-ctx-');
    cache = mkdtempSync('/tmp/berth-incr-cache-');
    cli = { env: { XDG_CACHE_HOME: cache }, timeoutMs: 180_000 };
    writeFileSync(join(ctx, 'big.bin'), big);
    writeFileSync(join(ctx, 'small.txt'), 'one\n');
    writeFileSync(join(ctx, 'ignored.bin'), randomBytes(1 << 20));
    writeFileSync(join(ctx, '.dockerignore'), 'ignored.bin\n');
    writeFileSync(join(ctx, 'Dockerfile'), ['FROM busybox', 'COPY big.bin /big.bin', 'COPY small.txt /small.txt', 'RUN cat /small.txt > /copy'].join('\n'));
  });
  after(async () => {
    await d?.destroy();
    for (const dir of [ctx, cache]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Bytes and stored files of the last build's upload. */
  const lastUpload = async (): Promise<{ bytes: number; stored: number }> => {
    const traces = (JSON.parse((await d.http('GET', '/debug/spans')).body) as Trace[])
      .filter((t) => /^POST \/v[\d.]+\/build$/.test(t.name)).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const names = traces.at(-1)?.spans.map((s) => s.name) ?? [];
    const m = names.map((n) => /^build: context received (\d+) bytes, (\d+) files from the store$/.exec(n)).find(Boolean);
    assert.ok(m, `an upload span in ${names.join(', ')}`);
    return { bytes: Number(m[1]), stored: Number(m[2]) };
  };
  const build = async (...args: string[]) => {
    const r = await d.berth(['build', ...args, '-t', 'incr/app', ctx], cli);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return r;
  };
  const check = async (small: string) => {
    const r = await d.docker(['run', '--rm', 'incr/app', 'sh', '-c', 'sha256sum /big.bin; cat /small.txt /copy']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${bigSum}  /big.bin\n${small}${small}`);
  };
  const storeFiles = () => readdirSync(join(d.dataRoot, 'build-context-store', 'sha256'));

  test('a second build of an unchanged context uploads no file bytes; a changed file arrives alone', async () => {
    await build();
    const cold = await lastUpload();
    assert.ok(cold.bytes >= BIG && cold.bytes < BIG + (64 << 10), `cold upload ${cold.bytes}`); // .dockerignore'd file not sent
    assert.equal(cold.stored, 0);
    await check('one\n');

    const cached = await build();
    assert.equal(cached.stdout.match(/Using cache/g)?.length, 3, cached.stdout);
    assert.deepEqual(await lastUpload(), { bytes: 0, stored: 4 }); // Dockerfile, .dockerignore, big.bin, small.txt

    writeFileSync(join(ctx, 'small.txt'), 'two\n');
    const touched = await build();
    assert.equal(touched.stdout.match(/Using cache/g)?.length, 1, touched.stdout);
    assert.deepEqual(await lastUpload(), { bytes: 4, stored: 3 });
    await check('two\n');

    // the docker CLI's classic upload is untouched: the whole context, nothing from the store
    const classic = await d.docker(['build', '-t', 'incr/app', ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 180_000 });
    assert.equal(classic.code, 0, classic.stderr);
    const up = await lastUpload();
    assert.ok(up.bytes >= BIG && up.stored === 0, JSON.stringify(up));
  });

  const post = (entries: [TarHeader, Buffer?][]): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, path: '/v1.47/build?t=incr/hostile', method: 'POST', headers: { 'Content-Type': 'application/x-tar', 'X-Berth-Context': 'incremental' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const tar = new TarWriter();
    tar.stream.pipe(req);
    void (async () => {
      for (const [h, body] of entries) await tar.add(h, body);
      await tar.finish();
    })();
  });
  const dockerfile = Buffer.from('FROM busybox\nCOPY . /x\n');
  const withDockerfile = (h: TarHeader): [TarHeader, Buffer?][] => [[headerDefaults({ name: 'Dockerfile', type: 'file', size: dockerfile.length }), dockerfile], [h]];
  const refTo = (name: string, hex: string, size: number) => headerDefaults({ name, type: 'file', size: 0, pax: { 'BERTH.digest': `sha256:${hex}`, 'BERTH.size': String(size) } });

  test('a manifest naming ../x, an absolute path, or content never sent is refused with 400', async () => {
    const known = storeFiles()[0]!;
    for (const [h, wording] of [
      [refTo('../x', known, 4), /the path must be relative and stay inside the context/],
      [refTo('/etc/x', known, 4), /the path must be relative and stay inside the context/],
      [refTo('x', 'cd'.repeat(32), 4), /holds no content sha256:cdcd.* and the upload did not send it/],
      [refTo('x', 'zz', 4), /expected sha256:<64 hex digits>/],
    ] as const) {
      const r = await post(withDockerfile(h));
      assert.equal(r.status, 400, r.body);
      assert.match((JSON.parse(r.body) as { message: string }).message, wording);
    }
    const manifest = await d.http('POST', '/v1.47/build/context-manifest', JSON.stringify({ Digests: ['../x'] }));
    assert.equal(manifest.status, 400, manifest.body);
  });

  test('system df counts the store as build cache and builder prune empties it', async () => {
    assert.ok(storeFiles().length > 0);
    const df = await d.docker(['system', 'df', '-v']);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /source\.local/);
    const prune = await d.docker(['builder', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.deepEqual(storeFiles(), []);
    const missing = JSON.parse((await d.http('POST', '/v1.47/build/context-manifest', JSON.stringify({ Digests: [`sha256:${bigSum}`] }))).body) as { Missing: string[] };
    assert.deepEqual(missing.Missing, [`sha256:${bigSum}`]);
  });
});
