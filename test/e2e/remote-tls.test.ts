/**
 * The daemon on TCP with mutual TLS, beside its unix socket: clients with a
 * certificate from the daemon's CA get in (berth, the docker CLI 28 and
 * 20.10), everyone else is refused at the handshake. Plain TCP only with an
 * explicit --tls=false and a warning. The unix socket is 0660 root:group.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { BERTH, BERTHD, TestDaemon } from '../support/daemon.js';
import { makeCerts, tlsDaemonArgs, type CertSet } from '../support/certs.js';
import { freePort } from '../support/net.js';

function gidOf(group: string): number | undefined {
  const r = spawnSync('getent', ['group', group], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.split(':')[2]) : undefined;
}

/** Starts berthd with `args` expecting it to refuse: its exit code and output. */
function refusedStart(args: string[], dir: string): Promise<{ code: number | null; output: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(BERTHD, ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--config-file', join(dir, 'none.json'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (b: Buffer) => (output += b.toString()));
    p.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}

/** A TLS handshake plus `GET /_ping`: 'OK', or the error that stopped it. */
function tlsPing(port: number, o: { ca?: Buffer; cert?: Buffer; key?: Buffer; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' }): Promise<string> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/_ping', agent: false, ...o, ...(o.maxVersion === 'TLSv1.1' ? { minVersion: 'TLSv1' } : {}) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error: ${err.code ?? ''} ${err.message}`));
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('remote daemon over TLS', () => {
  let d: TestDaemon;
  let dir: string;
  let good: CertSet;
  let other: CertSet;
  let port: number;
  let tlsEnv: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync('/tmp/berth-tls-');
    good = makeCerts(join(dir, 'good'));
    other = makeCerts(join(dir, 'other')); // a second, unrelated CA
    port = await freePort();
    d = await TestDaemon.start({ extraArgs: ['-H', `tcp://127.0.0.1:${port}`, ...tlsDaemonArgs(good)] });
    await d.busybox();
    tlsEnv = { BERTH_HOST: '', DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: good.dir, DOCKER_CONFIG: join(dir, 'config') };
  });
  after(async () => {
    await d?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('berth with a client certificate from the daemon\'s CA: flags, then DOCKER_* variables', async () => {
    const flags = await d.berth(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', good.ca, '--tlscert', good.cert, '--tlskey', good.key, 'version', '--format', '{{.Server.Version}}']);
    assert.equal(flags.code, 0, flags.stderr);
    assert.equal(flags.stdout.trim(), '27.0.0-berth');
    const env = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo over tls; exit 3'], { env: tlsEnv });
    assert.equal(env.code, 3, env.stderr);
    assert.equal(env.stdout, 'over tls\n');
    const stdin = await d.berth(['run', '-i', '--rm', 'busybox', 'cat'], { env: tlsEnv, input: 'piped over tls\n' });
    assert.equal(stdin.stdout, 'piped over tls\n');
  });

  test('a context with no CA: berth trusts the system roots plus $NODE_EXTRA_CA_CERTS, read only when a TLS daemon needs them', async () => {
    const env = { DOCKER_CONFIG: join(dir, 'config-no-ca') };
    const create = await d.berth(['context', 'create', 'no-ca', '--docker', `host=tcp://127.0.0.1:${port},cert=${good.cert},key=${good.key}`], { env });
    assert.equal(create.code, 0, create.stderr);
    const ps = ['--context', 'no-ca', 'ps', '-q'];
    const trusted = await d.berth(ps, { env: { ...env, NODE_EXTRA_CA_CERTS: good.ca } });
    assert.equal(trusted.code, 0, trusted.stderr);
    const untrusted = await d.berth(ps, { env: { ...env, NODE_EXTRA_CA_CERTS: '' } });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /error during connect: .*certificate/);
    // a file that cannot be read: not a word on the unix socket (Node never parsed it), Node's warning over TLS
    const missing = join(dir, 'no-such-ca.pem');
    const local = await d.berth(['ps', '-q'], { env: { NODE_EXTRA_CA_CERTS: missing } });
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stderr, '');
    const remote = await d.berth(ps, { env: { ...env, NODE_EXTRA_CA_CERTS: missing } });
    assert.equal(remote.code, 1);
    assert.match(remote.stderr, /Ignoring extra certs from `.*no-such-ca\.pem`, load failed/);
  });

  test('the real docker CLI (28 and 20.10) with --tlsverify: output, stdin through a half-closed TLS stream, exit codes', async () => {
    const v = await d.docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'], { env: tlsEnv });
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '27.0.0-berth 1.47');
    const out = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 4'], { env: tlsEnv });
    assert.equal(out.code, 4);
    assert.equal(out.stdout, 'out\n', 'output survives the client half-closing its side (close_notify)');
    assert.equal(out.stderr, 'err\n');
    const cat = await d.docker(['run', '-i', '--rm', 'busybox', 'cat'], { env: tlsEnv, input: 'docker over tls\n' });
    assert.equal(cat.stdout, 'docker over tls\n');
    const old = await d.docker2010(['run', '--rm', 'busybox', 'echo', '20.10'], { env: { ...tlsEnv, DOCKER_API_VERSION: '' } });
    assert.equal(old.code, 0, old.stderr);
    assert.equal(old.stdout, '20.10\n');
  });

  test('a client certificate from another CA is refused at the handshake', async () => {
    const raw = await tlsPing(port, { ca: good.pem('ca'), cert: other.pem('cert'), key: other.pem('key') });
    assert.match(raw, /^error: /);
    const r = await d.berth(['--tlsverify', '--tlscacert', good.ca, '--tlscert', other.cert, '--tlskey', other.key, 'ps'], { env: { ...tlsEnv, DOCKER_CERT_PATH: '' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error during connect: /);
    const docker = await d.docker(['--tlsverify', '--tlscacert', good.ca, '--tlscert', other.cert, '--tlskey', other.key, 'ps'], { env: { ...tlsEnv, DOCKER_CERT_PATH: '' } });
    assert.equal(docker.code, 1);
    assert.match(docker.stderr, /tls|certificate|connection reset|EOF/i);
  });

  test('a client with no certificate is refused: certificate required', async () => {
    assert.match(await tlsPing(port, { ca: good.pem('ca') }), /error: .*(CERTIFICATE_REQUIRED|certificate required|ECONNRESET|socket hang up)/i);
    const r = await d.berth(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', good.ca, 'ps'], { env: { DOCKER_CERT_PATH: join(dir, 'empty'), DOCKER_CONFIG: join(dir, 'config') } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error during connect: .*remote error: tls: certificate required/);
    const docker = await d.docker(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', good.ca, 'ps'], { env: { DOCKER_CERT_PATH: join(dir, 'empty'), DOCKER_CONFIG: join(dir, 'config') } });
    assert.equal(docker.code, 1);
    assert.match(docker.stderr, /certificate required/);
  });

  test('the daemon\'s certificate is checked by the client: a daemon from another CA is not trusted', async () => {
    const r = await d.berth(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', other.ca, '--tlscert', other.cert, '--tlskey', other.key, 'ps']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error during connect: .*certificate/);
  });

  test('TLS below 1.2 and plain HTTP on the TLS port get nothing', async () => {
    assert.match(await tlsPing(port, { ca: good.pem('ca'), cert: good.pem('cert'), key: good.pem('key'), maxVersion: 'TLSv1.1' }), /^error: /);
    assert.equal(await tlsPing(port, { ca: good.pem('ca'), cert: good.pem('cert'), key: good.pem('key'), maxVersion: 'TLSv1.2' }), 'OK');
    const plain = await d.berth(['-H', `tcp://127.0.0.1:${port}`, 'version'], { env: { DOCKER_CONFIG: join(dir, 'config') } });
    assert.equal(plain.code, 1);
    assert.doesNotMatch(plain.stdout, /berth/);
    // a handshake that never finishes is dropped too (the handshake timeout), not held forever
    const sock = tlsConnect({ host: '127.0.0.1', port, ca: good.pem('ca'), cert: good.pem('cert'), key: good.pem('key') });
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    sock.destroy();
    assert.equal(d.pid !== undefined && process.kill(d.pid, 0), true, 'the daemon is still up');
  });

  test('a TLS context made with berth is used by both CLIs', async () => {
    const env = { DOCKER_CONFIG: join(dir, 'ctx-config'), BERTH_HOST: '', DOCKER_HOST: '' };
    const create = await d.berth(['context', 'create', 'remote-tls', '--description', 'mutual TLS', '--docker', `host=tcp://127.0.0.1:${port},ca=${good.ca},cert=${good.cert},key=${good.key}`], { env });
    assert.equal(create.code, 0, create.stderr);
    const viaBerth = await d.berth(['--context', 'remote-tls', 'run', '--rm', 'busybox', 'echo', 'ctx'], { env });
    assert.equal(viaBerth.stdout, 'ctx\n', viaBerth.stderr);
    const viaDocker = await d.docker(['--context', 'remote-tls', 'version', '--format', '{{.Server.Version}}'], { env });
    assert.equal(viaDocker.stdout.trim(), '27.0.0-berth', viaDocker.stderr);
    const inspect = JSON.parse((await d.berth(['context', 'inspect', 'remote-tls'], { env })).stdout) as [{ TLSMaterial: Record<string, string[]> }];
    assert.deepEqual(inspect[0].TLSMaterial, { docker: ['ca.pem', 'cert.pem', 'key.pem'] });
  });

  test('the unix socket is 0660, owned by root and the berth or docker group, and refuses others', async () => {
    const st = statSync(d.socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    const expected = gidOf('berth') ?? gidOf('docker') ?? 0;
    assert.equal(st.gid, expected);
    chmodSync(d.dir, 0o711); // let other users reach the socket's directory
    const curl = (uid: number, gid: number) => spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', d.socket, 'http://x/_ping'], { encoding: 'utf8' });
    assert.equal(curl(65534, 65534).stdout, '000', 'nobody gets no connection');
    if (expected !== 0) assert.equal(curl(65534, expected).stdout, '200', 'a member of the socket group gets in');
    const asNobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', BERTH, '-H', d.host, 'ps'], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    assert.equal(asNobody.status, 1);
    assert.match(asNobody.stderr, /^permission denied while trying to connect to the berth daemon socket at unix:\/\//);
  });
});

describe('daemon start-up rules for TCP', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync('/tmp/berth-tcp-');
    writeFileSync(join(dir, 'none.json'), '{}');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('plain TCP without an explicit --tls=false is refused, and nothing listens', async () => {
    const port = await freePort();
    const r = await refusedStart(['-H', `unix://${dir}/a.sock`, '-H', `tcp://127.0.0.1:${port}`], dir);
    assert.equal(r.code, 1);
    assert.match(r.output, /refusing to listen on tcp:\/\/127\.0\.0\.1:\d+ without --tlsverify/);
    assert.equal(spawnSync('test', ['-e', `${dir}/a.sock`]).status, 1, 'not even the unix socket was created');
    const serverOnly = await refusedStart(['-H', `tcp://127.0.0.1:${port}`, '--tls'], dir);
    assert.equal(serverOnly.code, 1);
    assert.match(serverOnly.output, /could not read the certificate/);
  });

  test('missing or mismatched certificates stop the daemon with the file named', async () => {
    const certs = makeCerts(join(dir, 'c'));
    const port = await freePort();
    const missing = await refusedStart(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', certs.ca, '--tlscert', join(dir, 'nope.pem'), '--tlskey', certs.serverKey], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.output, /invalid TLS configuration: could not read the certificate \(--tlscert\) .*nope\.pem/);
    const mismatch = await refusedStart(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.serverCert, '--tlskey', certs.key], dir);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.output, /invalid TLS configuration/);
  });

  test('--tls=false allows plain TCP with dockerd\'s warning; -G makes the socket group', async () => {
    const port = await freePort();
    const group = `berthe2e${process.pid % 100000}`;
    const d = await TestDaemon.start({ extraArgs: ['-H', `tcp://127.0.0.1:${port}`, '--tls=false', '-G', group] });
    try {
      assert.match(d.logs, /Binding to IP address without --tlsverify is insecure/);
      const gid = gidOf(group);
      assert.notEqual(gid, undefined, 'the named group was created');
      assert.equal(statSync(d.socket).gid, gid);
      const r = await d.berth(['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Version}}']);
      assert.equal(r.stdout.trim(), '27.0.0-berth', r.stderr);
    } finally {
      await d.destroy();
      spawnSync('groupdel', [group]);
    }
    assert.equal(gidOf(group), undefined, 'the test group is gone again');
  });
});
