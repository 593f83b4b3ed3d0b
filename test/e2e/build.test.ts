/**
 * `docker build` with the classic builder (DOCKER_BUILDKIT=0) and `berth
 * build` against berthd: a multi-stage build checked file by file, config
 * and history; the cache (instant rebuild, mtime-only changes, one changed
 * file, after a restart, pruned); failing RUNs and malformed Dockerfiles.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, type CommandOptions } from '../support/daemon.js';

const legacy: CommandOptions = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 };

describe('build', () => {
  let d: TestDaemon;
  let ctx: string;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    ctx = mkdtempSync('/tmp/berth-build-ctx-');
    mkdirSync(join(ctx, 'src/nested'), { recursive: true });
    writeFileSync(join(ctx, 'src/app.sh'), '#!/bin/sh\necho "app $GREETING"\n');
    writeFileSync(join(ctx, 'src/nested/data.txt'), 'nested\n');
    writeFileSync(join(ctx, 'secret.key'), 'do not send\n');
    writeFileSync(join(ctx, '.dockerignore'), '*.key\n');
    mkdirSync(join(ctx, 'arch'));
    writeFileSync(join(ctx, 'arch/inside.txt'), 'from the archive\n');
    execFileSync('tar', ['-czf', join(ctx, 'bundle.tar.gz'), '-C', join(ctx, 'arch'), 'inside.txt']);
    writeFileSync(join(ctx, 'Dockerfile'), [
      'ARG BASE=busybox',
      'FROM ${BASE} AS tools',
      'ARG LEVEL=1',
      'RUN mkdir -p /out && echo "level $LEVEL" > /out/level.txt && echo building-tools',
      'COPY src/ /src/',
      'RUN cp /src/app.sh /out/app.sh && chmod 755 /out/app.sh',
      '',
      'FROM busybox AS unused',
      'RUN exit 1',
      '',
      'FROM busybox',
      'LABEL org.example.name="demo app" \\',
      '      org.example.tier=test',
      'ENV GREETING=hello PATH=/app:$PATH',
      'WORKDIR /app',
      'COPY --from=tools /out/ ./',
      'COPY --chown=1000:1000 --chmod=600 src/nested/data.txt /data/',
      'ADD bundle.tar.gz /unpacked/',
      'EXPOSE 8080/tcp 53/udp',
      'USER 1000',
      'STOPSIGNAL SIGTERM',
      'HEALTHCHECK --interval=30s --timeout=5s CMD ["true"]',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["app.sh"]',
    ].join('\n'));
  });
  after(async () => {
    await d?.destroy();
    if (ctx) rmSync(ctx, { recursive: true, force: true });
  });

  const ok = async (args: string[], o: CommandOptions = {}) => {
    const r = await d.docker(args, { ...legacy, ...o });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };
  const inspect = async (ref: string, fmt: string) => (await ok(['image', 'inspect', '-f', fmt, ref])).trim();

  test('a multi-stage build: files, config and history as Docker makes them; unused stages skipped', async () => {
    const out = await ok(['build', '-t', 'demo:1', '--build-arg', 'LEVEL=7', ctx]);
    assert.match(out, /Step 1\/\d+ : FROM \$\{BASE\} AS tools/);
    assert.match(out, /building-tools/);
    assert.match(out, /Successfully built [a-f0-9]{12}/);
    assert.match(out, /Successfully tagged demo:1/);
    assert.doesNotMatch(out, /RUN exit 1/); // the unused stage was not built
    const files = await ok(['run', '--rm', '--entrypoint', 'sh', '-u', '0', 'demo:1', '-c',
      'cat /app/level.txt; ls -l /app/app.sh | cut -c1-10; stat -c "%u:%g %a" /data/data.txt; cat /unpacked/inside.txt; ls /src 2>&1 | head -1; pwd']);
    assert.deepEqual(files.trim().split('\n'), ['level 7', '-rwxr-xr-x', '1000:1000 600', 'from the archive', 'ls: /src: No such file or directory', '/app']);
    assert.equal((await ok(['run', '--rm', 'demo:1'])).trim(), 'app hello');
    const config = JSON.parse(await inspect('demo:1', '{{json .Config}}')) as Record<string, unknown>;
    assert.deepEqual(config.Labels, { 'org.example.name': 'demo app', 'org.example.tier': 'test' });
    assert.deepEqual(config.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.equal(config.WorkingDir, '/app');
    assert.equal(config.User, '1000');
    assert.equal(config.StopSignal, 'SIGTERM');
    assert.deepEqual(config.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(config.Cmd, ['app.sh']);
    assert.ok((config.Env as string[]).includes('GREETING=hello'));
    assert.match((config.Env as string[]).find((e) => e.startsWith('PATH='))!, /^PATH=\/app:\/usr\/local\/sbin/);
    assert.deepEqual(config.Healthcheck, { Test: ['CMD', 'true'], Interval: 30e9, Timeout: 5e9 });
    const history = await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'demo:1']);
    // dockerd's shapes: values expanded, slices as Go's %q prints them, --chown glued to the hash
    assert.match(history, /#\(nop\)  CMD \["app.sh"\]/);
    assert.match(history, /#\(nop\)  ENTRYPOINT \["\/bin\/sh" "-c"\]/);
    assert.match(history, /#\(nop\) COPY --chown=1000:1000file:[a-f0-9]{64} in \/data\//);
    assert.match(history, /#\(nop\)  WORKDIR \/app$/m);
    assert.match(history, /#\(nop\)  ENV GREETING=hello PATH=\/app:\//);
    assert.match(history, /#\(nop\)  LABEL org.example.name=demo app org.example.tier=test$/m);
    assert.match(history, /#\(nop\)  HEALTHCHECK &\{\["CMD" "true"\] "30s" "5s" "0s" '\\x00'\}$/m);
    assert.match(history, /#\(nop\)  EXPOSE 8080\/tcp 53\/udp$/m);
    // .dockerignore kept the key out of the context
    writeFileSync(join(ctx, 'Dockerfile.secret'), 'FROM busybox\nCOPY secret.key /\n');
    const r = await d.docker(['build', '-f', join(ctx, 'Dockerfile.secret'), ctx], legacy);
    assert.equal(r.code, 1);
    assert.match(r.stderr + r.stdout, /COPY failed: file not found in build context or excluded by \.dockerignore: stat secret\.key/);
  });

  test('the cache: instant rebuild, mtimes ignored, one changed file rebuilds from its step; survives a restart; pruned', async () => {
    const id = await inspect('demo:1', '{{.Id}}');
    const again = await ok(['build', '-t', 'demo:1', '--build-arg', 'LEVEL=7', ctx]);
    assert.doesNotMatch(again, /Running in/);
    assert.match(again, /Using cache/);
    assert.equal(await inspect('demo:1', '{{.Id}}'), id);
    // a new mtime on the same bytes: still cached
    utimesSync(join(ctx, 'src/app.sh'), new Date(), new Date(2030, 0, 1));
    assert.doesNotMatch(await ok(['build', '-t', 'demo:1', '--build-arg', 'LEVEL=7', ctx]), /Running in/);
    // another build arg: the RUN that sees it runs again
    assert.match(await ok(['build', '-t', 'demo:2', '--build-arg', 'LEVEL=8', ctx]), /Running in/);
    // changed content: steps before the COPY come from the cache, the COPY and what follows are redone
    writeFileSync(join(ctx, 'src/app.sh'), '#!/bin/sh\necho "app v2 $GREETING"\n');
    const changed = await ok(['build', '-t', 'demo:3', '--build-arg', 'LEVEL=7', ctx]);
    const steps = changed.split(/Step \d+\/\d+ : /).slice(1);
    const run1 = steps.find((s) => s.startsWith('RUN mkdir'))!;
    const copy = steps.find((s) => s.startsWith('COPY src/'))!;
    const run2 = steps.find((s) => s.startsWith('RUN cp'))!;
    assert.match(run1, /Using cache/);
    assert.doesNotMatch(copy, /Using cache/);
    assert.match(run2, /Running in/);
    assert.equal((await ok(['run', '--rm', 'demo:3'])).trim(), 'app v2 hello');
    await d.restart();
    assert.doesNotMatch(await ok(['build', '-t', 'demo:3', '--build-arg', 'LEVEL=7', ctx]), /Running in/);
    const pruned = JSON.parse((await d.http('POST', '/build/prune')).body) as { CachesDeleted: string[] | null; SpaceReclaimed: number };
    assert.ok((pruned.CachesDeleted ?? []).length > 0);
    // tagged images stay; their own steps are no longer cached by others
    assert.equal(await inspect('demo:1', '{{.Id}}'), id);
  });

  test('a cached build after a --no-cache build of new content uses the chain that build made', async () => {
    const dir = mkdtempSync('/tmp/berth-build-chain-');
    try {
      writeFileSync(join(dir, 'Dockerfile'), ['FROM busybox', 'ENV A=1', 'COPY small.txt /small.txt', 'RUN cat /small.txt > /copy'].join('\n'));
      writeFileSync(join(dir, 'small.txt'), 'one\n');
      assert.equal((await d.berth(['build', '-q', '-t', 'chain/app', dir], { timeoutMs: 120_000 })).code, 0);
      writeFileSync(join(dir, 'small.txt'), 'two\n');
      const fresh = await d.berth(['build', '--no-cache', '-t', 'chain/app', dir], { timeoutMs: 120_000 });
      assert.equal(fresh.code, 0, fresh.stderr);
      // two images now follow busybox with ENV A=1: the one the first build made leads to a COPY of 'one'
      const cached = await d.berth(['build', '-t', 'chain/app', dir], { timeoutMs: 120_000 });
      assert.equal(cached.code, 0, cached.stderr);
      assert.equal(cached.stdout.match(/Using cache/g)?.length, 3, cached.stdout);
      assert.doesNotMatch(cached.stdout, /Running in/);
      const r = await d.docker(['run', '--rm', 'chain/app', 'cat', '/copy']);
      assert.equal(r.stdout, 'two\n');
    } finally {
      await d.docker(['rmi', 'chain/app']);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ONBUILD triggers run in the child build and are not inherited', async () => {
    const dir = mkdtempSync('/tmp/berth-build-onbuild-');
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nONBUILD RUN echo triggered > /t\n');
      await ok(['build', '-t', 'onbase:1', dir]);
      assert.deepEqual(JSON.parse(await inspect('onbase:1', '{{json .Config.OnBuild}}')), ['RUN echo triggered > /t']);
      writeFileSync(join(dir, 'Dockerfile'), 'FROM onbase:1\nCMD ["cat", "/t"]\n');
      const out = await ok(['build', '-t', 'onchild:1', dir]);
      assert.match(out, /# Executing 1 build trigger/);
      assert.equal((await ok(['run', '--rm', 'onchild:1'])).trim(), 'triggered');
      assert.equal(await inspect('onchild:1', '{{json .Config.OnBuild}}'), 'null');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--target builds a stage; berth build -q and --iidfile give the id', async () => {
    const out = await ok(['build', '--target', 'tools', '-t', 'tools:1', ctx]);
    assert.doesNotMatch(out, /WORKDIR/);
    const quiet = await ok(['build', '-q', '--target', 'tools', ctx]);
    assert.equal(quiet.trim(), await inspect('tools:1', '{{.Id}}'));
    const iid = join(ctx, 'iid');
    const r = await d.berth(['build', '-q', '--iidfile', iid, '--target', 'tools', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    assert.equal(execFileSync('cat', [iid], { encoding: 'utf8' }), r.stdout.trim());
    assert.equal(r.stdout.trim(), await inspect('tools:1', '{{.Id}}'));
  });

  test('a failing RUN exits with its code and tags nothing; malformed Dockerfiles are clear errors', async () => {
    const bad = mkdtempSync('/tmp/berth-build-bad-');
    try {
      const build = (dockerfile: string, extra: string[] = []) => {
        writeFileSync(join(bad, 'Dockerfile'), dockerfile);
        return d.docker(['build', ...extra, bad], legacy);
      };
      const fail = await build('FROM busybox\nRUN echo out-line; exit 3\n', ['--force-rm', '-t', 'never:1']);
      assert.equal(fail.code, 3);
      assert.match(fail.stdout, /out-line/);
      assert.match(fail.stderr, /The command '\/bin\/sh -c echo out-line; exit 3' returned a non-zero code: 3/);
      assert.equal((await d.docker(['image', 'inspect', 'never:1'])).code, 1);
      assert.equal((await ok(['ps', '-aq'])).trim(), '');
      const cases: [string, RegExp][] = [
        ['FROM busybox\nFOO bar\n', /dockerfile parse error line 2: unknown instruction: FOO/],
        ['RUN true\n', /no build stage in current context/],
        ['FROM busybox\nCOPY ../secret /x\n', /forbidden path outside the build context: \.\.\/secret/],
        ['FROM busybox\nCOPY missing.txt /x\n', /file not found in build context/],
        ['FROM busybox\nEXPOSE notaport\n', /invalid containerPort: notaport/],
        ['FROM busybox AS a\nFROM busybox AS a\n', /duplicate name a/],
      ];
      for (const [dockerfile, message] of cases) {
        const r = await build(dockerfile, ['-t', 'never:1']);
        assert.equal(r.code, 1, dockerfile);
        assert.match(r.stderr, message, dockerfile);
      }
      writeFileSync(join(bad, 'Dockerfile'), 'FROM busybox AS a\n');
      const target = await d.docker(['build', '--target', 'nope', bad], legacy);
      assert.match(target.stderr, /failed to reach build target nope in Dockerfile/);
      assert.equal((await d.docker(['image', 'inspect', 'never:1'])).code, 1);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
