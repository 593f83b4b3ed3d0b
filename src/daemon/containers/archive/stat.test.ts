import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeStatHeader } from '../../../api/path-stat.js';
import { goFileMode, goTime, isGoDir } from './stat.js';

test('POSIX modes become Go os.FileMode bits', () => {
  assert.equal(goFileMode(0o040755), 2147484141, 'dir|0755, as dockerd sends it');
  assert.equal(goFileMode(0o100644), 420);
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666, 'char device');
  assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755, 'setuid');
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777, 'sticky dir');
  assert.ok(isGoDir(goFileMode(0o040700)) && !isGoDir(420));
});

test('Go time JSON and the stat header', () => {
  assert.equal(goTime(1700000000n, 117365515n), '2023-11-14T22:13:20.117365515Z');
  assert.equal(goTime(1700000000n, 500000000n), '2023-11-14T22:13:20.5Z');
  assert.equal(goTime(1700000000n, 0n), '2023-11-14T22:13:20Z');
  const h = encodeStatHeader({ name: 'f.txt', size: 6, mode: 420, mtime: '2023-11-14T22:13:20Z', linkTarget: '' });
  assert.equal(Buffer.from(h, 'base64').toString(), '{"name":"f.txt","size":6,"mode":420,"mtime":"2023-11-14T22:13:20Z","linkTarget":""}');
});
