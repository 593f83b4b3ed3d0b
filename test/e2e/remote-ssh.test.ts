/**
 * The daemon reached over ssh://, as the docker CLI does it: a real sshd on
 * 127.0.0.1 runs `berth system dial-stdio` (or `docker system dial-stdio`,
 * through a shim that runs berth) and the client speaks HTTP through ssh.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { TestSshd } from '../support/sshd.js';
import { waitFor } from '../support/wait.js';

function dialStdioProcesses(): string[] {
  return spawnSync('pgrep', ['-af', 'system dial-stdio'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('dial-stdio') && !l.includes('pgrep'));
}

describe('remote daemon over ssh', () => {
  let d: TestDaemon;
  let sshd: TestSshd;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync('/tmp/berth-ssh-');
    d = await TestDaemon.start();
    await d.busybox();
    sshd = await TestSshd.start();
    env = { PATH: sshd.clientPath, BERTH_HOST: '', DOCKER_HOST: sshd.url(d.socket), DOCKER_CONFIG: join(dir, 'config') };
  });
  after(async () => {
    sshd?.stop();
    await d?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('berth -H ssh://root@127.0.0.1:PORT/socket: version, output, stdin, exit code', async () => {
    const v = await d.berth(['-H', sshd.url(d.socket), 'version', '--format', '{{.Server.Version}}'], { env: { ...env, DOCKER_HOST: '' } });
    assert.equal(v.code, 0, v.stderr + sshd.logs);
    assert.equal(v.stdout.trim(), '27.0.0-berth');
    const run = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 5'], { env });
    assert.equal(run.code, 5, run.stderr);
    assert.equal(run.stdout, 'out\n');
    assert.equal(run.stderr, 'err\n');
    const cat = await d.berth(['run', '-i', '--rm', 'busybox', 'cat'], { env, input: 'through ssh\n' });
    assert.equal(cat.stdout, 'through ssh\n', 'stdin reaches the container and its EOF half-closes through ssh');
  });

  test('the docker CLI over ssh runs docker system dial-stdio remotely (a shim that runs berth)', async () => {
    const v = await d.docker(['version', '--format', '{{.Server.Version}}'], { env });
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '27.0.0-berth');
    const cat = await d.docker(['run', '-i', '--rm', 'busybox', 'cat'], { env, input: 'docker through ssh\n' });
    assert.equal(cat.stdout, 'docker through ssh\n', cat.stderr);
  });

  test('an ssh context works in both CLIs', async () => {
    const create = await d.berth(['context', 'create', 'over-ssh', '--docker', `host=${sshd.url(d.socket)}`], { env });
    assert.equal(create.code, 0, create.stderr);
    const ps = await d.berth(['--context', 'over-ssh', 'ps', '-a'], { env: { ...env, DOCKER_HOST: '' } });
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^CONTAINER ID/);
    const docker = await d.docker(['--context', 'over-ssh', 'info', '--format', '{{.Driver}}'], { env: { ...env, DOCKER_HOST: '' } });
    assert.equal(docker.stdout.trim(), 'overlay2', docker.stderr);
  });

  test('a refused login is reported with ssh\'s own words and exit 1, no hang', async () => {
    const r = await d.berth(['-H', sshd.url(d.socket, 'nobody'), 'ps'], { env: { ...env, DOCKER_HOST: '' }, timeoutMs: 20_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error during connect: command \[ssh .*\] has exited with exit status 255, .*stderr=nobody@127\.0\.0\.1: Permission denied \(publickey\)/);
    const bad = await d.berth(['-H', 'ssh://user:secret@127.0.0.1', 'ps'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /plain-text password is not supported/);
  });

  test('no ssh session or dial-stdio relay is left behind', async () => {
    await waitFor(async () => dialStdioProcesses().length === 0, 5_000, `dial-stdio relays gone: ${dialStdioProcesses().join('; ')}`);
  });
});
