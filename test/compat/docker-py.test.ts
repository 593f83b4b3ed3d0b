/** docker-py (Debian's python3-docker, what docker-compose 1.29 is built on) against berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TestDaemon } from '../support/daemon.js';

const execFileP = promisify(execFile);

async function python(d: TestDaemon, script: string): Promise<string> {
  const { stdout } = await execFileP('python3', ['-c', script], { env: { ...process.env, ...d.env }, timeout: 30_000 });
  return stdout;
}

describe('docker-py against berthd', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('containers.run returns the output; images and containers list', async () => {
    const out = await python(d, `
import docker
c = docker.from_env()
print(c.containers.run('busybox', ['sh', '-c', 'echo from-py'], remove=True).decode(), end='')
print(c.images.list()[0].tags)
print(len(c.containers.list(all=True)))
`);
    assert.equal(out, "from-py\n['busybox:latest']\n0\n");
  });

  // attach_socket sends a plain POST (no Upgrade header) and then uses the
  // raw socket both ways, as dockerd allows: stdin goes in after the 200.
  test('attach_socket: stdin written after the response reaches the container', async () => {
    const out = await python(d, `
import docker, struct
c = docker.from_env()
ctr = c.containers.run('busybox', 'cat', stdin_open=True, detach=True)
try:
    s = c.api.attach_socket(ctr.id, params={'stdin': 1, 'stdout': 1, 'stream': 1})
    s._sock.sendall(b'hello-raw\\n')
    buf = b''
    while b'hello-raw' not in buf:
        chunk = s._sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    kind, size = struct.unpack('>BxxxL', buf[:8])
    print(kind, buf[8:8 + size].decode(), end='')
    s._sock.close()
finally:
    ctr.remove(force=True)
`);
    assert.equal(out, '1 hello-raw\n');
  });
});
