/**
 * Multi-stage builds through the docker CLI's classic path (DOCKER_BUILDKIT=0):
 * stages that do not read each other build at the same time, stages the
 * target does not need are skipped, and the Step stream reads as a
 * sequential build's; `berth build -o` exports the target's files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDockerfile } from '../support/dockerfiles.js';
import { TestDaemon, type CommandOptions } from '../support/daemon.js';

const legacy: CommandOptions = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 };

describe('multi-stage builds', () => {
  let d: TestDaemon;
  let ctx: string;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    ctx = mkdtempSync('/tmp/berth-build-stages-');
  });
  after(async () => {
    if (d) assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
    await d?.destroy();
    if (ctx) rmSync(ctx, { recursive: true, force: true });
  });

  const dockerfile = (name: string, lines: string[]) => writeDockerfile(ctx, name, lines);

  test('two independent stages run at the same time: their recorded intervals overlap', async () => {
    // busybox's date has no %N: /proc/uptime is the host's clock in 1/100 s, the same in every container
    const stamp = (name: string) => `RUN cut -d" " -f1 /proc/uptime > /${name}.start && sleep 2 && cut -d" " -f1 /proc/uptime > /${name}.end`;
    const dir = dockerfile('parallel', [
      'FROM busybox AS a',
      stamp('a'),
      'FROM busybox AS b',
      stamp('b'),
      'FROM busybox',
      'COPY --from=a /a.start /a.end /stamps/',
      'COPY --from=b /b.start /b.end /stamps/',
    ]);
    const r = await d.docker(['build', '-t', 'stages:parallel', dir], legacy);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // the stream reads as a sequential build's: every Step in order, each stage's lines together
    const steps = [...r.stdout.matchAll(/^Step (\d+)\/(\d+) : (.*)$/gm)].map((m) => `${m[1]}/${m[2]} ${m[3]}`);
    assert.deepEqual(steps, [
      '1/7 FROM busybox AS a', `2/7 ${stamp('a')}`, '3/7 FROM busybox AS b', `4/7 ${stamp('b')}`,
      '5/7 FROM busybox', '6/7 COPY --from=a /a.start /a.end /stamps/', '7/7 COPY --from=b /b.start /b.end /stamps/',
    ]);
    const out = await d.docker(['run', '--rm', 'stages:parallel', 'sh', '-c', 'cat /stamps/a.start /stamps/a.end /stamps/b.start /stamps/b.end']);
    assert.equal(out.code, 0, out.stderr);
    const [aStart, aEnd, bStart, bEnd] = out.stdout.trim().split('\n').map(Number);
    assert.ok(aStart! < aEnd! && bStart! < bEnd!, out.stdout);
    assert.ok(aStart! < bEnd! && bStart! < aEnd!, `intervals a=[${aStart}, ${aEnd}] b=[${bStart}, ${bEnd}] do not overlap`);
  });

  test('a stage waits for the stage it copies from only at that COPY: its steps before it run while that stage still builds', async () => {
    const dir = dockerfile('per-step', [
      'FROM busybox AS quick',
      'RUN echo quick > /quick',
      'FROM busybox AS slow',
      'RUN sleep 2 && cut -d" " -f1 /proc/uptime > /slow.end',
      'FROM busybox',
      'COPY --from=quick /quick /quick',
      'RUN cut -d" " -f1 /proc/uptime > /between',
      'COPY --from=slow /slow.end /slow.end',
    ]);
    const r = await d.docker(['build', '-t', 'stages:per-step', dir], legacy);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = await d.docker(['run', '--rm', 'stages:per-step', 'sh', '-c', 'cat /quick /between /slow.end']);
    assert.equal(out.code, 0, out.stderr);
    const [quick, between, slowEnd] = out.stdout.trim().split('\n');
    assert.equal(quick, 'quick');
    assert.ok(Number(between) < Number(slowEnd), `the RUN after COPY --from=quick ran at ${between}, after the slow stage ended at ${slowEnd}`);
  });

  test('a stage the target does not need is not built', async () => {
    const dir = dockerfile('skip', [
      'FROM busybox AS broken',
      'RUN echo unused-stage-ran && exit 3',
      'FROM busybox AS used',
      'RUN echo used > /used',
      'FROM busybox',
      'COPY --from=used /used /used',
    ]);
    const r = await d.docker(['build', '-t', 'stages:skip', dir], legacy);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout, /unused-stage-ran/);
    assert.match(r.stdout, /^Step 1\/4 : FROM busybox AS used$/m);
    const t = await d.docker(['build', '--target', 'used', '-q', dir], legacy);
    assert.equal(t.code, 0, t.stderr);
  });

  test('a failing stage fails the build with its error while the other stage is stopped', async () => {
    const dir = dockerfile('fail', [
      'FROM busybox AS slow',
      'RUN sleep 1',
      'RUN echo slow-second-step',
      'FROM busybox AS bad',
      'RUN echo bad-stage && exit 7',
      'FROM busybox',
      'COPY --from=slow /etc/hostname /a',
      'COPY --from=bad /etc/hostname /b',
    ]);
    const r = await d.docker(['build', dir], legacy);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /returned a non-zero code: 7/);
    assert.match(r.stdout, /bad-stage/);
    assert.doesNotMatch(r.stdout, /slow-second-step/);
  });

  test('berth build -o exports the target stage\'s files (a directory, a tar, the DIR shorthand) and tags no image (its steps stay as cache)', async () => {
    const dir = dockerfile('export', [
      'FROM busybox AS gen',
      'RUN mkdir -p /out/sub && echo hello > /out/sub/a.txt && ln -s /etc/passwd /out/abs-link && ln -s ../../../../.. /out/up-link',
      'FROM scratch',
      'COPY --from=gen /out /',
    ]);
    const before = (await d.docker(['images', '--filter', 'dangling=false', '-q'])).stdout;
    const dest = join(ctx, 'export-out');
    const local = await d.berth(['build', '-o', `type=local,dest=${dest}`, dir], { timeoutMs: 120_000 });
    assert.equal(local.code, 0, local.stderr + local.stdout);
    assert.match(local.stdout, /Step 4\/4 : COPY --from=gen \/out \//);
    assert.deepEqual(readdirSync(dest).sort(), ['abs-link', 'sub', 'up-link']);
    assert.equal(readFileSync(join(dest, 'sub/a.txt'), 'utf8'), 'hello\n');
    // links arrive as links, not followed out of DEST
    assert.equal(readlinkSync(join(dest, 'abs-link')), '/etc/passwd');
    assert.equal(readlinkSync(join(dest, 'up-link')), '../../../../..');
    assert.equal((await d.docker(['images', '--filter', 'dangling=false', '-q'])).stdout, before, 'no image tagged');

    const file = join(ctx, 'export.tar');
    const tar = await d.berth(['build', '-q', '-o', `type=tar,dest=${file}`, dir], { timeoutMs: 120_000 });
    assert.equal(tar.code, 0, tar.stderr);
    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(names, ['abs-link', 'sub/', 'sub/a.txt', 'up-link']);

    const short = join(ctx, 'export-short');
    const bare = await d.berth(['build', '-q', '-o', short, dir], { timeoutMs: 120_000 });
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(readFileSync(join(short, 'sub/a.txt'), 'utf8'), 'hello\n');
  });

  test('--build-context: a directory for COPY --from and RUN --mount from=, an image for FROM', async () => {
    const extra = join(ctx, 'extra-dir');
    mkdirSync(extra, { recursive: true });
    writeFileSync(join(extra, 'data.txt'), 'from the named context\n');
    const dir = dockerfile('named', [
      'FROM base',
      'COPY --from=extra /data.txt /copied.txt',
      'RUN --mount=from=extra,target=/m cat /m/data.txt > /mounted.txt',
    ]);
    writeFileSync(join(dir, 'main.txt'), 'main\n');
    const args = ['build', '-t', 'stages:named', '--build-context', `extra=${extra}`, '--build-context', 'base=docker-image://busybox:latest', dir];
    const r = await d.berth(args, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = await d.docker(['run', '--rm', 'stages:named', 'sh', '-c', 'cat /copied.txt /mounted.txt; ls /.berth-build-contexts 2>&1 | head -1']);
    assert.equal(out.stdout, 'from the named context\nfrom the named context\nls: /.berth-build-contexts: No such file or directory\n');
    // the named directory's content is in the cache key: an edit runs the COPY again
    writeFileSync(join(extra, 'data.txt'), 'changed\n');
    const again = await d.berth(args, { timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await d.docker(['run', '--rm', 'stages:named', 'cat', '/copied.txt', '/mounted.txt'])).stdout, 'changed\nchanged\n');
  });

  test('build cache in system df (row and -v records); builder prune honours until and keep-storage, then clears what no image holds', async () => {
    const dir = dockerfile('cache', [
      'FROM busybox',
      'RUN --mount=type=cache,target=/cache dd if=/dev/zero of=/cache/blob bs=1024 count=300 2>/dev/null',
      'RUN echo dangling > /dangling',
    ]);
    const r = await d.docker(['build', dir], legacy); // untagged: its steps are build cache only
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const kept = await d.docker(['build', '-t', 'stages:kept', dockerfile('kept', ['FROM busybox', 'RUN echo kept > /kept'])], legacy);
    assert.equal(kept.code, 0, kept.stderr);

    const row = (await d.docker(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Size}}|{{.Reclaimable}}'])).stdout.split('\n').find((l) => l.startsWith('Build Cache'))!;
    const [, total, size] = row.split('|');
    assert.ok(Number(total) >= 4, row);
    assert.notEqual(size, '0B', row);
    const verbose = (await d.docker(['system', 'df', '-v'])).stdout;
    const table = verbose.slice(verbose.indexOf('Build cache usage:'));
    assert.match(table, /CACHE ID\s+CACHE TYPE\s+SIZE\s+CREATED\s+LAST USED\s+USAGE\s+SHARED/);
    assert.match(table, /exec\.cachemount\s+30\dkB/);
    assert.match(table, /regular\s.*\strue\n/, 'the tagged image\'s step is shared');
    assert.match(table, /regular\s.*\sfalse\n/, 'the untagged build\'s steps are not');

    const prune = (args: string[]) => d.docker(['builder', 'prune', '-f', ...args], legacy);
    const recent = await prune(['--filter', 'until=24h']);
    assert.equal(recent.code, 0, recent.stderr);
    assert.match(recent.stdout, /Total reclaimed space: 0B/, 'everything was used just now');
    const roomy = await prune(['--keep-storage', '1GB']);
    assert.match(roomy.stdout, /Total reclaimed space: 0B/, 'the cache is under 1GB');
    const all = await prune(['--all']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /Deleted build cache objects:\n/);
    assert.match(all.stdout, /Total reclaimed space: [1-9]/);
    const after = (await d.docker(['system', 'df', '-v'])).stdout;
    const left = after.slice(after.indexOf('Build cache usage:')).split('\n').filter((l) => /regular|exec\./.test(l));
    assert.ok(left.length > 0 && left.every((l) => /\strue$/.test(l.trim()) || /\strue\s*$/.test(l)), left.join('\n'));
    assert.equal((await d.docker(['run', '--rm', 'stages:kept', 'cat', '/kept'])).stdout, 'kept\n');
  });

  test('--cache-from: a loaded image\'s history and layers stand in for steps no local cache has', async () => {
    const dir = dockerfile('cache-from', ['FROM busybox', 'ENV STAGE=one', 'RUN cut -d" " -f1 /proc/uptime > /stamp', 'COPY Dockerfile /copied']);
    const first = await d.docker(['build', '-t', 'stages:cf', dir], legacy);
    assert.equal(first.code, 0, first.stderr);
    const stamp = (await d.docker(['run', '--rm', 'stages:cf', 'cat', '/stamp'])).stdout;
    const tar = join(ctx, 'cf.tar');
    assert.equal((await d.docker(['save', '-o', tar, 'stages:cf'])).code, 0);
    assert.equal((await d.docker(['rmi', 'stages:cf'])).code, 0); // its step images go with it: no local cache
    assert.equal((await d.docker(['load', '-i', tar])).code, 0);
    const again = await d.docker(['build', '--cache-from', 'stages:cf', '-t', 'stages:cf2', dir], legacy);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal([...again.stdout.matchAll(/Using cache/g)].length, 3, again.stdout);
    // a RUN that ran again would have written another uptime
    assert.equal((await d.docker(['run', '--rm', 'stages:cf2', 'cat', '/stamp'])).stdout, stamp, 'the RUN did not run again');
  });
});
