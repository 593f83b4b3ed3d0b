import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDaemonHost, planTls, planTransport } from './plan.js';
import { parseGroupLine } from './socket-group.js';

const noEnv = { HOME: '/home/u' };

test('hosts are read as dockerd reads them', () => {
  assert.deepEqual(parseDaemonHost('unix:///run/x.sock'), { kind: 'unix', host: 'unix:///run/x.sock', path: '/run/x.sock' });
  assert.deepEqual(parseDaemonHost('unix://'), { kind: 'unix', host: 'unix:///run/berth.sock', path: '/run/berth.sock' });
  assert.deepEqual(parseDaemonHost('tcp://0.0.0.0:2376'), { kind: 'tcp', host: 'tcp://0.0.0.0:2376', address: '0.0.0.0', port: 2376 });
  assert.deepEqual(parseDaemonHost('tcp://'), { kind: 'tcp', host: 'tcp://localhost:2375', address: 'localhost', port: 2375 });
  assert.deepEqual(parseDaemonHost('tcp://:2376'), { kind: 'tcp', host: 'tcp://localhost:2376', address: 'localhost', port: 2376 });
  assert.deepEqual(parseDaemonHost('127.0.0.1:2376'), { kind: 'tcp', host: 'tcp://127.0.0.1:2376', address: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseDaemonHost('tcp://[::1]:2376'), { kind: 'tcp', host: 'tcp://[::1]:2376', address: '::1', port: 2376 });
});

test('bad hosts are refused with daemon.invalid_host', () => {
  for (const h of ['ftp://x', 'tcp://1.2.3.4:2376/path', 'tcp://1.2.3.4:99999', 'unix://relative/x', 'fd://', 'tcp://u:p@host:1']) {
    assert.throws(() => parseDaemonHost(h), (e: Error & { code?: string }) => e.code === 'daemon.invalid_host', h);
  }
});

test('TLS: --tlsverify implies --tls; --tls alone verifies; cert paths default to DOCKER_CERT_PATH, then DOCKER_CONFIG, then ~/.docker', () => {
  assert.equal(planTls({}, noEnv), undefined);
  assert.equal(planTls({ tls: false }, noEnv), undefined);
  assert.deepEqual(planTls({ tlsVerify: true }, noEnv), { verify: true, caFile: '/home/u/.docker/ca.pem', certFile: '/home/u/.docker/cert.pem', keyFile: '/home/u/.docker/key.pem' });
  assert.equal(planTls({ tls: true }, noEnv)?.verify, true);
  assert.equal(planTls({ tls: true, tlsVerify: false }, noEnv)?.verify, false);
  assert.equal(planTls({ tls: false, tlsVerify: false }, noEnv)?.verify, false, '--tlsverify given at all turns TLS on');
  assert.equal(planTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' })?.caFile, '/certs/ca.pem');
  assert.equal(planTls({ tls: true }, { DOCKER_CONFIG: '/cfg' })?.keyFile, '/cfg/key.pem');
  assert.equal(planTls({ tls: true, tlsCert: '/a.pem' }, noEnv)?.certFile, '/a.pem');
});

test('plain TCP is refused unless --tls=false or --tlsverify=false is explicit, and then warned about', () => {
  assert.throws(() => planTransport({ hosts: ['tcp://127.0.0.1:2375'] }, noEnv), (e: Error & { code?: string }) => e.code === 'daemon.insecure_tcp');
  assert.throws(() => planTransport({ hosts: ['unix:///x.sock', 'tcp://0.0.0.0:2375'] }, noEnv), /refusing to listen on tcp:\/\/0\.0\.0\.0:2375/);
  const allowed = planTransport({ hosts: ['tcp://127.0.0.1:2375'], tls: false }, noEnv);
  assert.equal(allowed.tls, undefined);
  assert.equal(allowed.insecure.length, 1);
  assert.match(allowed.warnings[0]!, /without --tlsverify is insecure/);
  const serverOnly = planTransport({ hosts: ['tcp://127.0.0.1:2376'], tls: true, tlsVerify: false }, noEnv);
  assert.equal(serverOnly.insecure.length, 1, 'TLS without client verification authenticates nobody');
  const mutual = planTransport({ hosts: ['unix:///x.sock', 'tcp://127.0.0.1:2376'], tlsVerify: true }, noEnv);
  assert.deepEqual(mutual.insecure, []);
  assert.deepEqual(mutual.warnings, []);
  assert.deepEqual(mutual.listeners.map((l) => l.kind), ['unix', 'tcp']);
  assert.deepEqual(planTransport({ hosts: ['unix:///x.sock'] }, noEnv).warnings, [], 'a unix socket needs no TLS');
});

test('the same host twice is refused', () => {
  assert.throws(() => planTransport({ hosts: ['unix:///x.sock', 'unix:///x.sock'] }, noEnv), /given twice/);
});

test('getent group lines', () => {
  assert.deepEqual(parseGroupLine('docker:x:998:alice,bob\n'), { name: 'docker', gid: 998 });
  assert.equal(parseGroupLine('broken'), undefined);
});
