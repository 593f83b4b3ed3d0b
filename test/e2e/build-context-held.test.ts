/**
 * The build context is held in memory, not written to disk, until a step
 * needs it there (builder/held-files.ts): berthd's build directory sits on
 * a tmpfs far smaller than the context, so a build that wrote the context
 * would fail with ENOSPC. Cold, fully cached and one-file-changed builds
 * still copy the right bytes; steps that read the context directory (RUN
 * --mount=type=bind, ADD of an archive, hard links) see the real content;
 * a hostile archive is refused or confined as before. Steps before the
 * first read of the context run while it still uploads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { headerDefaults, TarWriter, type TarHeader } from '../../src/lib/tar/index.js';
import { TestDaemon, type CommandOptions } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';

const legacy: CommandOptions = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 180_000 };
const BIG = 12 << 20;

describe('build context held in memory', () => {
  let d: TestDaemon;
  let ctx: string;
  let tmpfs: string | undefined;
  const big = randomBytes(BIG);
  const bigSum = createHash('sha256').update(big).digest('hex');

  before(async () => {
    d = await TestDaemon.start({ extraArgs: ['--debug'] }); // GET /debug/spans: what each upload carried
    await d.busybox();
    // the builder's work directories live in <data-root>/tmp: 4 MiB there, a 12 MiB context
    const dir = join(d.dataRoot, 'tmp');
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'berth-test-build-tmp', dir]);
    tmpfs = dir;
    ctx = mkdtempSync('/tmp/berth-held-ctx-');
    writeFileSync(join(ctx, 'big.bin'), big);
    writeFileSync(join(ctx, 'small.txt'), 'one\n');
    writeFileSync(join(ctx, 'Dockerfile'), [
      'FROM busybox',
      'COPY big.bin /big.bin',
      'ENV A=1',
      'COPY small.txt /small.txt',
      'RUN cat /small.txt > /copy',
    ].join('\n'));
  });
  after(async () => {
    if (tmpfs) execFileSync('umount', [tmpfs]);
    await d?.destroy();
    if (ctx) rmSync(ctx, { recursive: true, force: true });
  });

  /** Files of the last build's upload whose bytes the context store already held under their name. */
  const unchangedFiles = async (): Promise<number> => {
    const traces = (JSON.parse((await d.http('GET', '/debug/spans')).body) as { name: string; startedAt: string; spans: { name: string }[] }[])
      .filter((t) => /^POST \/v[\d.]+\/build$/.test(t.name)).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const m = traces.at(-1)?.spans.map((s) => /^build: context files unchanged since the last upload: (\d+)$/.exec(s.name)).find(Boolean);
    assert.ok(m, 'an upload span');
    return Number(m[1]);
  };

  const check = async (tag: string, small: string) => {
    const r = await d.docker(['run', '--rm', tag, 'sh', '-c', 'sha256sum /big.bin; cat /small.txt /copy']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${bigSum}  /big.bin\n${small}${small}`);
  };

  test('cold, fully cached and one-file-changed builds copy the right bytes without writing the context to disk', async () => {
    const cold = await d.docker(['build', '--no-cache', '-t', 'held/app', ctx], legacy);
    assert.equal(cold.code, 0, cold.stderr + cold.stdout);
    await check('held/app', 'one\n');

    const cached = await d.docker(['build', '-t', 'held/app', ctx], legacy);
    assert.equal(cached.code, 0, cached.stderr);
    assert.equal(cached.stdout.match(/Using cache/g)?.length, 4, cached.stdout);
    // the docker CLI sent big.bin again: its bytes were compared with the stored copy, not held again
    assert.equal(await unchangedFiles(), 1);

    writeFileSync(join(ctx, 'small.txt'), 'two\n');
    const touched = await d.docker(['build', '-t', 'held/app', ctx], legacy);
    assert.equal(touched.code, 0, touched.stderr);
    assert.equal(await unchangedFiles(), 1);
    // the big COPY and the ENV hit; the changed COPY and the RUN after it run again
    assert.equal(touched.stdout.match(/Using cache/g)?.length, 2, touched.stdout);
    await check('held/app', 'two\n');
  });

  test('a RUN bind mount of the context, an ADDed archive and hard links see the real bytes', async () => {
    const small = mkdtempSync('/tmp/berth-held-small-');
    try {
      writeFileSync(join(small, 'data.txt'), 'bound\n');
      linkSync(join(small, 'data.txt'), join(small, 'again.txt'));
      mkdirSync(join(small, 'arch'));
      writeFileSync(join(small, 'arch/inside.txt'), 'archived\n');
      execFileSync('tar', ['-czf', join(small, 'bundle.tar.gz'), '-C', join(small, 'arch'), 'inside.txt']);
      writeFileSync(join(small, 'Dockerfile'), [
        'FROM busybox',
        'RUN --mount=type=bind,target=/ctx cat /ctx/data.txt /ctx/again.txt > /bound',
        'ADD bundle.tar.gz /unpacked/',
        'COPY again.txt /again.txt',
      ].join('\n'));
      const r = await d.docker(['build', '-t', 'held/small', small], legacy);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = await d.docker(['run', '--rm', 'held/small', 'cat', '/bound', '/unpacked/inside.txt', '/again.txt']);
      assert.equal(out.stdout, 'bound\nbound\narchived\nbound\n', out.stderr);
    } finally {
      rmSync(small, { recursive: true, force: true });
    }
  });

  test('a hostile context is refused or confined on the lazy path: .. names, symlinked parents, hard links out', async () => {
    const outside = mkdtempSync('/tmp/berth-held-outside-');
    try {
      // the RUN may start while the archive still streams: a bad entry after it is still a plain 400
      const dockerfile = 'FROM busybox\nRUN true\nCOPY esc/pwned /pwned\n';
      const climb = await postBuild('held/evil', [[{ name: 'Dockerfile', type: 'file' }, dockerfile], [{ name: '../evil', type: 'file' }, 'x']]);
      assert.equal(climb.status, 400, climb.body);
      assert.match(climb.body, /escapes/);

      const linkOut = await postBuild('held/evil', [[{ name: 'Dockerfile', type: 'file' }, dockerfile], [{ name: 'l', type: 'link', linkname: '../../etc/passwd' }]]);
      assert.equal(linkOut.status, 400, linkOut.body);

      // a symlink to a host directory, then a file below it: it lands inside the context, and COPY reads that
      const viaLink = await postBuild('held/evil', [
        [{ name: 'Dockerfile', type: 'file' }, dockerfile],
        [{ name: 'esc', type: 'symlink', linkname: outside }],
        [{ name: 'esc/pwned', type: 'file' }, 'confined\n'],
      ]);
      assert.equal(viaLink.status, 200, viaLink.body);
      assert.doesNotMatch(viaLink.body, /errorDetail/);
      assert.equal(existsSync(join(outside, 'pwned')), false);
      const out = await d.docker(['run', '--rm', 'held/evil', 'cat', '/pwned']);
      assert.equal(out.stdout, 'confined\n', out.stderr);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('steps before the first COPY run while the rest of the context is still uploading', async () => {
    const tar = new TarWriter();
    let status = 0;
    let text = '';
    const response = new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: '/build?t=held/early&q=1', headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } }, (res) => {
        status = res.statusCode ?? 0;
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      tar.stream.pipe(req);
    });
    const dockerfile = 'FROM busybox\nRUN sleep 5 && echo early > /early\nCOPY late.txt /late.txt\n';
    await tar.add(headerDefaults({ name: 'Dockerfile', type: 'file', size: dockerfile.length }), dockerfile);
    // the upload stays open: the RUN's container (a builder-owned runc one) appears before the rest is sent (it never would if the builder waited for it)
    const runcRoot = join(d.execRoot, 'build-runc');
    await waitFor(async () => execFileSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).trim() !== '', 90_000, 'the RUN step to start during the upload');
    await tar.add(headerDefaults({ name: 'late.txt', type: 'file', size: 5 }), 'late\n');
    await tar.finish();
    await response;
    assert.equal(status, 200, text);
    assert.doesNotMatch(text, /errorDetail/);
    const out = await d.docker(['run', '--rm', 'held/early', 'cat', '/early', '/late.txt']);
    assert.equal(out.stdout, 'early\nlate\n', out.stderr);
  });

  /** POST /build with a tar made here (the docker CLI would not send these entries). */
  const postBuild = async (tag: string, entries: [Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>, string?][]) => {
    const tar = new TarWriter();
    const chunks: Buffer[] = [];
    tar.stream.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => tar.stream.once('end', r));
    for (const [h, body] of entries) await tar.add(headerDefaults({ ...h, size: body?.length ?? 0 }), body);
    await tar.finish();
    await ended;
    const body = Buffer.concat(chunks);
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: `/build?t=${encodeURIComponent(tag)}`, headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
});
