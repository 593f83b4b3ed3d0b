import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress, parseHost, shellQuote, sshArguments } from './host.js';

test('unix, tcp and ssh hosts are read as the docker CLI reads them', () => {
  assert.deepEqual(parseHost('unix:///run/berth.sock'), { kind: 'unix', socketPath: '/run/berth.sock' });
  assert.deepEqual(parseHost('tcp://10.0.0.1:2376'), { kind: 'tcp', host: '10.0.0.1', port: 2376 });
  assert.deepEqual(parseHost('tcp://example.com'), { kind: 'tcp', host: 'example.com', port: 2375 });
  assert.deepEqual(parseHost('127.0.0.1:2376'), { kind: 'tcp', host: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseHost('tcp://[::1]:2376'), { kind: 'tcp', host: '::1', port: 2376 });
  assert.deepEqual(parseHost('ssh://me@box:2222/var/run/berth.sock'), { kind: 'ssh', host: 'box', user: 'me', port: 2222, socketPath: '/var/run/berth.sock' });
  assert.deepEqual(parseHost('ssh://box'), { kind: 'ssh', host: 'box' });
  assert.equal(formatAddress(parseHost('ssh://me@box:2222/s.sock')), 'ssh://me@box:2222/s.sock');
});

test('ssh URLs that docker refuses are refused', () => {
  assert.throws(() => parseHost('ssh://me:pw@box'), /plain-text password is not supported/);
  assert.throws(() => parseHost('ssh://box?x=1'), /query parameters are not allowed/);
  assert.throws(() => parseHost('ssh://box#frag'), /fragments are not allowed/);
  assert.throws(() => parseHost('ssh://'), /hostname is empty|invalid SSH URL/);
  assert.throws(() => parseHost('ftp://box'), /use unix:\/\/\/path, tcp:\/\/host:port or ssh/);
});

test('the ssh command line: options, no pty, -- before the host, a quoted remote command', () => {
  assert.deepEqual(sshArguments({ kind: 'ssh', host: 'box', user: 'me', port: 2222, socketPath: '/run/my sock' }), [
    '-o', 'ConnectTimeout=30', '-T', '-l', 'me', '-p', '2222', '--', 'box', "berth '--host=unix:///run/my sock' system dial-stdio",
  ]);
  assert.deepEqual(sshArguments({ kind: 'ssh', host: '-oProxyCommand=x' }).slice(-2), ['-oProxyCommand=x', 'berth system dial-stdio'], 'a hostile host name stays a host name after --');
  assert.equal(shellQuote("it's"), "'it'\\''s'");
});
