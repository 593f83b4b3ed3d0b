import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlagsFast, parseWithCommander } from './flags.js';

// Lines the small parser answers: it must read them exactly as commander does.
const plain: string[][] = [
  [],
  ['-H', 'unix:///tmp/a.sock', '--host', 'tcp://0.0.0.0:2375', '--host=unix:///tmp/b.sock'],
  ['--data-root', '/tmp/d', '--exec-root=/tmp/e', '-l', 'warn', '-D', '--live-restore', '--init'],
  ['--tls', '--tlsverify', 'false', '--tlscacert', 'ca.pem', '--tlscert=c.pem', '--tlskey', 'k.pem'],
  ['--tls=0', '--tlsverify=True', '-G', 'berth'],
  ['--config-file', '/tmp/daemon.json', '--cgroup-parent', '/x', '-b', 'br0', '--bip', '10.1.2.1/24'],
  ['--api-max-header-size', '8192', '--api-max-json-body=1e6', '--api-headers-timeout', '2.5', '--api-max-connections', '10'],
  ['--insecure-registry', 'a:5000', '--insecure-registry', '10.0.0.0/8', '--registry-mirror', 'http://m', '--max-concurrent-downloads', '3'],
  ['--plugin-spec-dir', '/a', '--plugin-spec-dir', '/b', '--plugin-timeout', '5', '--authorization-plugin', 'authz', '--cri', '--cri-socket', '/tmp/cri.sock'],
  ['-l', 'debug', '-l', 'error'],
];

for (const argv of plain) {
  test(`berthd ${argv.join(' ') || '(no flags)'}: the small parser reads what commander reads`, async () => {
    const fast = parseFlagsFast(argv);
    assert.ok(fast, 'the small parser answers');
    assert.deepEqual(fast, await parseWithCommander(argv));
  });
}

// Lines left to commander: help, version, errors and spellings the small parser does not take.
const left: string[][] = [
  ['--help'], ['-h'], ['-v'], ['--version'], ['-Dl', 'warn'], ['-lwarn'], ['--no-such-flag'], ['extra'], ['--', '-D'],
  ['-H'], ['--data-root'], ['-H', '-D'], ['--debug=true'], ['--tls=maybe'], ['--api-max-header-size', '-1'], ['--plugin-timeout', 'x'],
];

for (const argv of left) {
  test(`berthd ${argv.join(' ')}: left to commander`, () => {
    assert.equal(parseFlagsFast(argv), undefined);
  });
}
