/**
 * `berth context ...` stores contexts exactly where and how the docker CLI
 * does, so each CLI uses the other's contexts, and the same precedence
 * rules pick the daemon (--context, -H, DOCKER_HOST, DOCKER_CONTEXT, currentContext).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';

describe('contexts shared with the docker CLI', () => {
  let d: TestDaemon;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    d = await TestDaemon.start();
    dir = mkdtempSync('/tmp/berth-ctx-');
    env = { DOCKER_CONFIG: join(dir, 'cfg'), BERTH_HOST: '', DOCKER_HOST: '' };
  });
  after(async () => {
    await d?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('create, ls, inspect: berth writes what docker reads, and the other way round', async () => {
    const made = await d.berth(['context', 'create', 'local-berth', '--description', 'the test daemon', '--docker', `host=${d.host}`], { env });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout, 'local-berth\n');
    assert.equal(made.stderr, 'Successfully created context "local-berth"\n');
    const byDocker = await d.docker(['context', 'create', 'by-docker', '--docker', 'host=tcp://127.0.0.1:1'], { env });
    assert.equal(byDocker.code, 0, byDocker.stderr);
    for (const cli of [d.berth.bind(d), d.docker.bind(d)]) {
      const ls = await cli(['context', 'ls', '--format', 'json'], { env });
      const rows = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as { Name: string; DockerEndpoint: string; Description: string });
      assert.deepEqual(rows.filter((r) => r.Name !== 'default').map((r) => [r.Name, r.DockerEndpoint, r.Description]), [
        ['by-docker', 'tcp://127.0.0.1:1', ''],
        ['local-berth', d.host, 'the test daemon'],
      ]);
    }
    const mine = await d.berth(['context', 'inspect', 'local-berth', 'by-docker'], { env });
    const theirs = await d.docker(['context', 'inspect', 'local-berth', 'by-docker'], { env });
    assert.equal(mine.stdout, theirs.stdout);
    const table = await d.berth(['context', 'ls'], { env });
    const dockerTable = await d.docker(['context', 'ls'], { env });
    const stored = (s: string) => s.split('\n').filter((l) => /^(by-docker|local-berth|NAME)/.test(l)).join('\n');
    assert.equal(stored(table.stdout), stored(dockerTable.stdout));
  });

  test('use: config.json currentContext, honoured by both CLIs; DOCKER_HOST overrides it with a warning', async () => {
    const use = await d.berth(['context', 'use', 'local-berth'], { env });
    assert.equal(use.code, 0, use.stderr);
    assert.equal(use.stderr, 'Current context is now "local-berth"\n');
    assert.equal((JSON.parse(readFileSync(join(dir, 'cfg', 'config.json'), 'utf8')) as { currentContext: string }).currentContext, 'local-berth');
    const berthVersion = await d.berth(['version', '--format', '{{.Server.Version}}'], { env });
    assert.equal(berthVersion.stdout.trim(), '27.0.0-berth', berthVersion.stderr);
    const dockerVersion = await d.docker(['version', '--format', '{{.Server.Version}}'], { env });
    assert.equal(dockerVersion.stdout.trim(), '27.0.0-berth', dockerVersion.stderr);
    assert.match((await d.berth(['context', 'ls'], { env })).stdout, /^local-berth \*/m);
    const overridden = await d.berth(['context', 'ls', '-q'], { env: { ...env, DOCKER_HOST: 'unix:///nowhere.sock' } });
    assert.match(overridden.stderr, /Warning: DOCKER_HOST environment variable overrides the active context/);
    const show = await d.berth(['context', 'show'], { env: { ...env, DOCKER_HOST: 'unix:///nowhere.sock' } });
    assert.equal(show.stdout, 'default\n');
    assert.equal((await d.berth(['context', 'show'], { env: { ...env, DOCKER_CONTEXT: 'by-docker' } })).stdout, 'by-docker\n');
    const viaEnvContext = await d.berth(['ps'], { env: { ...env, DOCKER_CONTEXT: 'by-docker' } });
    assert.equal(viaEnvContext.code, 1, 'DOCKER_CONTEXT picks the unreachable context');
    assert.match(viaEnvContext.stderr, /127\.0\.0\.1:1/);
  });

  test('--context with -H is refused; an unknown context fails to initialize', async () => {
    const both = await d.berth(['--context', 'local-berth', '-H', d.host, 'ps'], { env });
    assert.equal(both.code, 1);
    assert.equal(both.stderr, 'conflicting options: cannot specify both --host and --context\n');
    const gone = await d.berth(['--context', 'nope', 'ps'], { env });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^Failed to initialize: unable to resolve docker endpoint: context "nope": context not found/);
  });

  test('rm: not the one in use unless -f, never default; -f forgets it in config.json', async () => {
    const inUse = await d.berth(['context', 'rm', 'local-berth'], { env });
    assert.equal(inUse.code, 1);
    assert.equal(inUse.stderr, 'context "local-berth" is in use, set -f flag to force remove\n');
    const dflt = await d.berth(['context', 'rm', 'default', 'missing-one'], { env });
    assert.equal(dflt.code, 1);
    assert.equal(dflt.stderr, 'context "default" cannot be removed\ncontext "missing-one" does not exist\n');
    const forced = await d.berth(['context', 'rm', '-f', 'local-berth', 'by-docker'], { env });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, 'local-berth\nby-docker\n');
    assert.equal('currentContext' in (JSON.parse(readFileSync(join(dir, 'cfg', 'config.json'), 'utf8')) as object), false);
    assert.equal((await d.docker(['context', 'ls', '-q'], { env })).stdout, 'default\n');
  });

  test('bad input: names, endpoint keys, missing files; nothing is stored', async () => {
    const cases: [string[], RegExp][] = [
      [['context', 'create', 'x', '--docker', 'host=unix:///x'], /context name "x" is invalid/],
      [['context', 'create', 'default', '--docker', 'host=unix:///x'], /"default" is a reserved context name/],
      [['context', 'create', 'ok-name', '--docker', 'host=unix:///x,bogus=1'], /unable to create docker endpoint config: unrecognized config key: bogus/],
      [['context', 'create', 'ok-name', '--docker', 'host=tcp://h:1,ca=/no/such/ca.pem'], /open \/no\/such\/ca\.pem: no such file or directory/],
      [['context', 'create', 'ok-name', '--docker', 'host=tcp://h:1,skip-tls-verify=maybe'], /skip-tls-verify: parsing "maybe": invalid syntax/],
      [['context', 'create', 'ok-name', '--docker', 'host=ssh://u:pw@h'], /plain-text password is not supported/],
      [['context', 'use', 'nope'], /context "nope": context not found/],
    ];
    for (const [args, message] of cases) {
      const r = await d.berth(args, { env });
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, message);
    }
    assert.equal((await d.berth(['context', 'ls', '-q'], { env })).stdout, 'default\n');
  });

  test('BERTH_CONFIG moves the store away from DOCKER_CONFIG', async () => {
    const own = { ...env, BERTH_CONFIG: join(dir, 'berth-only') };
    assert.equal((await d.berth(['context', 'create', 'only-berth', '--docker', `host=${d.host}`], { env: own })).code, 0);
    assert.equal((await d.berth(['context', 'ls', '-q'], { env: own })).stdout, 'default\nonly-berth\n');
    assert.equal((await d.docker(['context', 'ls', '-q'], { env })).stdout, 'default\n');
  });
});
