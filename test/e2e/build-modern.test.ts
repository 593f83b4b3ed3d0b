/**
 * Dockerfiles written for BuildKit, built by berth's classic /build through
 * the real docker CLI (DOCKER_BUILDKIT=0) and `berth build`: heredoc
 * scripts, RUN --mount (cache, bind from a stage, tmpfs, secret),
 * --network=none, COPY --chmod/--chown by name/--exclude/--parents/--link,
 * ADD --checksum, platform ARGs, # syntax, --security=insecure when granted;
 * secrets kept out of layers,
 * history and the log; builder prune clearing cache mounts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, type CommandOptions } from '../support/daemon.js';

const legacy: CommandOptions = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 };

describe('build with BuildKit-era Dockerfiles', () => {
  let d: TestDaemon;
  let ctx: string;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    ctx = mkdtempSync('/tmp/berth-build-modern-');
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
  const dockerfile = (dir: string, lines: string[]) => writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
  const sub = (name: string) => {
    const dir = join(ctx, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  test('heredoc scripts (sh, and awk by its shebang), heredocs as stdin and as COPY sources; mounts from a stage and tmpfs; --network=none; platform ARGs', async () => {
    const dir = sub('heredocs');
    dockerfile(dir, [
      '# syntax=docker/dockerfile:1',
      '# check=skip=all',
      'ARG TARGETARCH',
      'FROM busybox AS tools',
      'RUN mkdir /out && echo from-tools > /out/tool.txt',
      '',
      'FROM busybox',
      'ARG TARGETPLATFORM',
      'ARG NAME=world',
      'ENV GREETING=hello',
      'RUN <<EOF',
      'set -e',
      'echo "script $NAME" > /script.txt',
      'echo "platform $TARGETPLATFORM" >> /script.txt',
      'EOF',
      'RUN <<EOF',
      '#!/usr/bin/awk -f',
      'BEGIN { print "awk ran as " ARGV[0] > "/awk.txt" }',
      'EOF',
      'RUN cat <<A > /a.txt && cat <<-B > /b.txt',
      'first $NAME',
      'A',
      '\tsecond',
      '\tB',
      'COPY <<one <<"two" /docs/',
      'expanded $GREETING ${NAME}',
      'one',
      'kept $GREETING',
      'two',
      'RUN --mount=type=bind,from=tools,source=/out,target=/in --mount=type=tmpfs,target=/scratch \\',
      '    cp /in/tool.txt /tool.txt && grep " /scratch " /proc/mounts | cut -d" " -f3 > /scratch.txt && touch /scratch/gone',
      'RUN --network=none sh -c "grep -c eth0 /proc/net/dev > /eth0.txt || true"',
    ]);
    const out = await ok(['build', '-t', 'modern-heredoc:1', dir]);
    assert.match(out, /the "# check=skip=all" directive is ignored/);
    const files = await ok(['run', '--rm', 'modern-heredoc:1', 'sh', '-c',
      'cat /script.txt /awk.txt /a.txt /b.txt /docs/one /docs/two /tool.txt /scratch.txt /eth0.txt; test -e /scratch || echo no-scratch-stub; test -e /in || echo no-in-stub; stat -c %a /docs/one']);
    assert.deepEqual(files.trim().split('\n'), [
      'script world', 'platform linux/amd64', 'awk ran as awk', 'first world', 'second', 'expanded hello world', 'kept $GREETING',
      'from-tools', 'tmpfs', '0', 'no-scratch-stub', 'no-in-stub', '644',
    ]);
  });

  test('a cache mount keeps a download between builds; a changed mount spec misses the step cache; builder prune clears it', async () => {
    const dir = sub('cache');
    const build = async (version: string, sharing = 'shared') => {
      writeFileSync(join(dir, 'version'), version);
      dockerfile(dir, [
        'FROM busybox',
        'COPY version /version',
        `RUN --mount=type=cache,id=dl,target=/var/cache/dl,sharing=${sharing} \\`,
        '    if [ -f /var/cache/dl/pkg ]; then echo "cache hit"; else echo "downloading"; echo payload > /var/cache/dl/pkg; fi; cp /var/cache/dl/pkg /pkg',
      ]);
      return ok(['build', '-t', 'modern-cache:1', dir]);
    };
    // the markers as the RUN prints them, on lines of their own (the Step line quotes both)
    const downloaded = /^downloading$/m;
    const hit = /^cache hit$/m;
    assert.match(await build('1'), downloaded);
    const second = await build('2');
    assert.match(second, hit);
    assert.doesNotMatch(second, downloaded);
    assert.match(await build('2', 'locked'), hit); // the step ran again (no "Using cache"): the mount spec changed
    assert.equal((await ok(['run', '--rm', 'modern-cache:1', 'sh', '-c', 'cat /pkg; test -e /var/cache/dl || echo no-stub'])).trim(), 'payload\nno-stub');
    const pruned = await ok(['builder', 'prune', '-f']);
    assert.match(pruned, /Total reclaimed space: [1-9]/);
    assert.match(await build('3'), downloaded);
  });

  test('a bind mount from the context is part of the step\'s cache key: an edited file runs the step again', async () => {
    const dir = sub('bind');
    mkdirSync(join(dir, 'conf'));
    dockerfile(dir, ['FROM busybox', 'RUN --mount=type=bind,source=conf,target=/conf cat /conf/app.txt > /seen']);
    const build = async (content: string) => {
      writeFileSync(join(dir, 'conf/app.txt'), content);
      const out = await ok(['build', '-t', 'modern-bind:1', dir]);
      return { out, seen: (await ok(['run', '--rm', 'modern-bind:1', 'cat', '/seen'])).trim() };
    };
    assert.equal((await build('one')).seen, 'one');
    assert.match((await build('one')).out, /Using cache/);
    const edited = await build('two');
    assert.doesNotMatch(edited.out, /Using cache/);
    assert.equal(edited.seen, 'two');
  });

  test('a secret reaches RUN as a file and an env var, never a layer, the history or the log; a new value misses the cache', async () => {
    const dir = sub('secret');
    const token = 's3cr3t-token-f00d';
    const apiKey = 'k3y-from-env-beef';
    writeFileSync(join(dir, 'token.txt'), token);
    dockerfile(dir, [
      'FROM busybox',
      'RUN --mount=type=secret,id=token --mount=type=secret,id=apikey,env=API_KEY,required=true \\',
      '    echo "lengths $(wc -c < /run/secrets/token) ${#API_KEY}" && cat /run/secrets/token && echo && ls -l /run/secrets/token | cut -c1-10 && touch /built',
    ]);
    const build = (key: string) => d.berth(['build', '-t', 'modern-secret:1', '--secret', `id=token,src=${join(dir, 'token.txt')}`, '--secret', 'id=apikey,env=MY_KEY', dir],
      { env: { MY_KEY: key }, timeoutMs: 120_000 });
    const r = await build(apiKey);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`lengths ${token.length} ${apiKey.length}`));
    assert.match(r.stdout, /-r--------/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(`${token}|${apiKey}`)); // the RUN printed it: masked
    const history = await ok(['history', '--no-trunc', 'modern-secret:1']);
    assert.doesNotMatch(history, new RegExp(`${token}|${apiKey}`));
    const inspect = await ok(['image', 'inspect', 'modern-secret:1']);
    assert.doesNotMatch(inspect, new RegExp(`${token}|${apiKey}`));
    // every layer of the saved image, byte for byte
    const saved = join(dir, 'saved');
    mkdirSync(saved);
    await ok(['save', '-o', join(saved, 'image.tar'), 'modern-secret:1']);
    execFileSync('tar', ['-xf', join(saved, 'image.tar'), '-C', saved]);
    const blobs = join(saved, 'blobs/sha256');
    let layers = 0;
    for (const name of readdirSync(blobs)) {
      const data = readFileSync(join(blobs, name));
      assert.equal(data.includes(token), false, `blob ${name} holds the secret`);
      assert.equal(data.includes(apiKey), false, `blob ${name} holds the env secret`);
      layers += statSync(join(blobs, name)).size > 1024 ? 1 : 0;
    }
    assert.ok(layers >= 1);
    // not even the empty mount point the runtime made for it
    assert.equal((await ok(['run', '--rm', 'modern-secret:1', 'sh', '-c', 'test -e /run/secrets/token || echo no-stub; test -e /built && echo built'])).trim(), 'no-stub\nbuilt');
    // the same values hit the cache; a new one runs the step again
    assert.match((await build(apiKey)).stdout, /Using cache/);
    const changed = await build('another-key-value');
    assert.equal(changed.code, 0, changed.stderr);
    assert.doesNotMatch(changed.stdout, /Using cache/);
    // required and missing
    const missing = await d.berth(['build', dir], { timeoutMs: 120_000 });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /secret apikey: not found/);
    rmSync(saved, { recursive: true, force: true });
  });

  test('COPY --chown by name, --chmod octal and symbolic, --exclude, --parents, --link; ADD --checksum', async () => {
    const dir = sub('copy');
    writeFileSync(join(dir, 'tool.sh'), '#!/bin/sh\necho tool\n', { mode: 0o644 });
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf/app.ini'), 'a=1\n');
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs/guide.txt'), 'guide\n');
    writeFileSync(join(dir, 'docs/README.md'), 'readme\n');
    writeFileSync(join(dir, 'docs/secret-notes.txt'), 'no\n');
    mkdirSync(join(dir, 'src/pkg/sub'), { recursive: true });
    writeFileSync(join(dir, 'src/pkg/a.go'), 'a\n');
    writeFileSync(join(dir, 'src/pkg/sub/b.go'), 'b\n');
    const data = Buffer.from('payload bytes\n');
    writeFileSync(join(dir, 'data.bin'), data);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const lines = (confMode: string, checksum = digest) => [
      'FROM busybox',
      'RUN echo "app:x:1234:2345::/home/app:/bin/sh" >> /etc/passwd && echo "app:x:2345:" >> /etc/group',
      'COPY --link --chown=app:app --chmod=u+x,go= tool.sh /opt/tool.sh',
      `COPY --chmod=${confMode} conf/ /etc/conf/`,
      'COPY --exclude=*.md --exclude=secret* docs/ /docs/',
      'COPY --parents src/./pkg/a.go src/./pkg/sub/b.go /parents/',
      `ADD --checksum=${checksum} data.bin /data.bin`,
    ];
    dockerfile(dir, lines('0640'));
    await ok(['build', '-t', 'modern-copy:1', dir]);
    const check = 'stat -c "%U:%G %u:%g %a" /opt/tool.sh; stat -c %a /etc/conf/app.ini; ls /docs; find /parents -type f | sort; cat /data.bin';
    assert.deepEqual((await ok(['run', '--rm', 'modern-copy:1', 'sh', '-c', check])).trim().split('\n'), [
      'app:app 1234:2345 700', '640', 'guide.txt', '/parents/pkg/a.go', '/parents/pkg/sub/b.go', 'payload bytes',
    ]);
    // a changed --chmod must not hit the old cache entry
    dockerfile(dir, lines('0600'));
    await ok(['build', '-t', 'modern-copy:2', dir]);
    assert.equal((await ok(['run', '--rm', 'modern-copy:2', 'stat', '-c', '%a', '/etc/conf/app.ini'])).trim(), '600');
    const wrong = `sha256:${'0'.repeat(64)}`;
    dockerfile(dir, lines('0600', wrong));
    const r = await d.docker(['build', dir], legacy);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`expected ${wrong}, got ${digest}`));
  });

  test('clear errors: another frontend, ssh mounts, --security=insecure, ADD from the network', async () => {
    const dir = sub('errors');
    const cases: [string[], RegExp][] = [
      [['# syntax=example.com/frontend:1', 'FROM busybox'], /unsupported Dockerfile frontend "example.com\/frontend:1"/],
      [['FROM busybox', 'RUN --mount=type=ssh true'], /RUN --mount=type=ssh is not supported by berth/],
      [['FROM busybox', 'RUN --security=insecure true'], /RUN --security=insecure is not allowed/],
      [['FROM busybox', 'ADD https://example.com/x.tgz /x'], /ADD from a URL or git repository is not supported by berth/],
      [['FROM busybox', 'ADD git@github.com:moby/moby.git /src'], /ADD from a URL or git repository is not supported/],
      [['FROM busybox', 'RUN --mount=type=cache true'], /mount type cache requires a target/],
    ];
    for (const [text, message] of cases) {
      dockerfile(dir, text);
      const r = await d.docker(['build', dir], legacy);
      assert.equal(r.code, 1, text.join('\n'));
      assert.match(r.stderr, message, text.join('\n'));
    }
    assert.equal((await ok(['ps', '-aq'])).trim(), '');
  });

  test('RUN --security=insecure runs privileged once daemon.json grants allow-insecure-entitlement', async () => {
    writeFileSync(join(d.dir, 'daemon.json'), JSON.stringify({ 'allow-insecure-entitlement': true }));
    await d.restart();
    const dir = sub('insecure');
    dockerfile(dir, ['FROM busybox', 'RUN grep CapEff /proc/self/status > /sandbox', 'RUN --security=insecure grep CapEff /proc/self/status > /insecure']);
    await ok(['build', '-t', 'modern-insecure:1', dir]);
    const [sandbox, insecure] = (await ok(['run', '--rm', 'modern-insecure:1', 'cat', '/sandbox', '/insecure'])).trim().split('\n');
    const caps = (line: string | undefined) => BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(line ?? '')![1]}`);
    const CAP_SYS_ADMIN = 21n;
    assert.equal((caps(sandbox) >> CAP_SYS_ADMIN) & 1n, 0n);
    assert.equal((caps(insecure) >> CAP_SYS_ADMIN) & 1n, 1n, insecure);
  });
});
