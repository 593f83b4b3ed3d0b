import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFailureStatus } from './start-errors.js';

test('a failed start: 127 not found, 126 cannot run, else the caller\'s default', () => {
  const msg = (s: string) => `OCI runtime create failed: runc create failed: unable to start container process: ${s}: unknown`;
  assert.equal(startFailureStatus(msg('exec: "nope": executable file not found in $PATH'), 125), 127);
  assert.equal(startFailureStatus(msg('exec: "/x": stat /x: no such file or directory'), 128), 127);
  assert.equal(startFailureStatus(msg('error mounting "/a" to rootfs: not a directory'), 125), 127);
  assert.equal(startFailureStatus(msg('exec: "/etc": permission denied'), 125), 126);
  assert.equal(startFailureStatus(msg('cgroup: device busy'), 128), 128);
  assert.equal(startFailureStatus(msg('cgroup: device busy'), 125), 125);
});
