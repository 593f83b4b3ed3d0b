/**
 * IPv6 on the host side of IPv4-only networks, through the real docker CLI
 * against a real berthd: published ports answer on [::1] as with dockerd
 * (proxied to the container's IPv4 address) unless an IPv4 address was
 * given, and containers of a network without IPv6 have IPv6 off on their
 * interfaces (lo keeps ::1).
 * Traffic stays on 127.0.0.1, ::1 and this daemon's bridges.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { TestDaemon } from '../support/daemon.js';

/** curl's body and exit status (7: connection refused). */
function curl(host: string, port: number, path = '/'): { code: number; body: string } {
  const r = spawnSync('curl', ['-sS', '-g', '--max-time', '3', `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`], { encoding: 'utf8' });
  return { code: r.status ?? -1, body: r.stdout };
}

async function retry<T>(fn: () => T, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A port free on 127.0.0.1 and ::1 alike. */
async function freePort(): Promise<number> {
  for (;;) {
    const p = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const free6 = await new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(p, '::1', () => s.close(() => resolve(true)));
    });
    if (free6) return p;
  }
}

describe('IPv6 with IPv4-only networks', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('the host has ::1 (these tests need it)', () => {
    assert.match(readFileSync('/proc/net/if_inet6', 'utf8'), /^0{31}1 .* lo$/m);
  });

  test('-p host:ctr answers on 127.0.0.1 and [::1]; -p 127.0.0.1:... on IPv4 only; -p [::1]:... on IPv6 only', async () => {
    const [both, v4, v6] = [await freePort(), await freePort(), await freePort()];
    const run = await d.docker(['run', '-d', '--name', 'web6', '-p', `${both}:80`, '-p', `127.0.0.1:${v4}:80`, '-p', `[::1]:${v6}:80`, '-p', '8080',
      'busybox', 'sh', '-c', 'echo dual > /i.txt; httpd -p 8080 -h /; httpd -f -p 80 -h /']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await retry(() => curl('::1', both, '/i.txt'), (r) => r.code === 0), { code: 0, body: 'dual\n' });
    assert.deepEqual(curl('127.0.0.1', both, '/i.txt'), { code: 0, body: 'dual\n' });
    assert.deepEqual(curl('127.0.0.1', v4, '/i.txt'), { code: 0, body: 'dual\n' });
    assert.equal(curl('::1', v4, '/i.txt').code, 7, '127.0.0.1:PORT:80 does not answer on ::1');
    assert.deepEqual(curl('::1', v6, '/i.txt'), { code: 0, body: 'dual\n' });
    assert.equal(curl('127.0.0.1', v6, '/i.txt').code, 7, '[::1]:PORT:80 does not answer on 127.0.0.1');

    const port = (await d.docker(['port', 'web6'])).stdout;
    assert.match(port, new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:${both}$`, 'm'));
    assert.match(port, new RegExp(`^80/tcp -> \\[::\\]:${both}$`, 'm'));
    assert.match(port, new RegExp(`^80/tcp -> 127\\.0\\.0\\.1:${v4}$`, 'm'));
    assert.match(port, new RegExp(`^80/tcp -> \\[::1\\]:${v6}$`, 'm'));
    // a port the daemon picks is the same on both families
    const random = /^8080\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(port)?.[1];
    assert.match(port, new RegExp(`^8080/tcp -> \\[::\\]:${random}$`, 'm'));
    assert.deepEqual(curl('::1', Number(random), '/i.txt'), { code: 0, body: 'dual\n' });

    // taken on IPv6 by another container: refused like an IPv4 clash
    const clash = await d.docker(['run', '--rm', '-p', `[::1]:${both}:80`, 'busybox', 'true']);
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, new RegExp(`Bind for \\[::1\\]:${both} failed: port is already allocated`));

    const stopped = await d.docker(['stop', '-t', '1', 'web6']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(curl('::1', both).code, 7, 'the IPv6 listener goes with the container');
    assert.equal(curl('::1', v6).code, 7);
    const started = await d.docker(['start', 'web6']);
    assert.equal(started.code, 0, started.stderr);
    assert.deepEqual(await retry(() => curl('::1', both, '/i.txt'), (r) => r.code === 0), { code: 0, body: 'dual\n' });
    const removed = await d.docker(['rm', '-f', 'web6']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(curl('::1', both).code, 7);
    assert.equal(curl('::1', v6).code, 7);
    assert.equal(curl('127.0.0.1', both).code, 7);
  });

  test('a container on an IPv4-only network has IPv6 off on its interfaces (lo keeps ::1), as with dockerd', async () => {
    const probe = 'for f in eth0 default; do cat /proc/sys/net/ipv6/conf/$f/disable_ipv6; done; ip -6 -o addr';
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', probe]);
    assert.equal(r.code, 0, r.stderr);
    const [eth0, dflt, ...addrs] = r.stdout.trim().split('\n');
    assert.equal(eth0, '1', 'net.ipv6.conf.eth0.disable_ipv6');
    assert.equal(dflt, '1', 'net.ipv6.conf.default.disable_ipv6');
    assert.deepEqual(addrs.map((l) => l.split(/\s+/).slice(1, 4).join(' ')), ['lo inet6 ::1/128'], 'no link-local address on eth0');

    // a user network, and an interface connected later
    assert.equal((await d.docker(['network', 'create', 'v4only'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'late6', '--network', 'v4only', 'busybox', 'sleep', '60'])).code, 0);
    assert.equal((await d.docker(['network', 'connect', 'bridge', 'late6'])).code, 0);
    const both = await d.docker(['exec', 'late6', 'cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6', '/proc/sys/net/ipv6/conf/eth1/disable_ipv6']);
    assert.equal(both.stdout, '1\n1\n', both.stderr);
    assert.equal((await d.docker(['rm', '-f', 'late6'])).code, 0);
    assert.equal((await d.docker(['network', 'rm', 'v4only'])).code, 0);
  });
});
