/**
 * Networks through the real docker CLI against a real berthd: user
 * networks with DNS by name, port publishing over 127.0.0.1, the other
 * modes, connect/disconnect, bad input, and nothing left behind. Every
 * address is on this daemon's own bridges or 127.0.0.1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { TestDaemon } from '../support/daemon.js';

function httpGet(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function retry<T>(fn: () => Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** A /24 of 10.x that no other test run is likely to pick at the same time. */
function subnet(): string {
  const r = randomBytes(2);
  return `10.${150 + (r[0]! % 40)}.${r[1]}.0/24`;
}

describe('networks', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('two containers on a user network: one serves, the other fetches by name, alias and hostname', async () => {
    const net = `app-${randomBytes(3).toString('hex')}`;
    const sub = subnet();
    assert.equal((await d.docker(['network', 'create', '--subnet', sub, '--label', 'team=a', net])).code, 0);
    const web = await d.docker(['run', '-d', '--name', 'web', '--hostname', 'webhost', '--network', net, '--network-alias', 'www',
      'busybox', 'sh', '-c', 'echo served-by-web > /srv.txt; httpd -f -p 80 -h /']);
    assert.equal(web.code, 0, web.stderr);
    const fetch = await d.docker(['run', '--rm', '--network', net, 'busybox', 'sh', '-c',
      'for n in web www webhost; do wget -qO- http://$n/srv.txt || exit 1; done; cat /etc/resolv.conf']);
    assert.equal(fetch.code, 0, fetch.stderr);
    assert.match(fetch.stdout, /^(served-by-web\n){3}/);
    assert.match(fetch.stdout, /^nameserver 127\.0\.0\.11$/m);
    assert.match(fetch.stdout, /options ndots:0/);

    const inspect = JSON.parse((await d.docker(['network', 'inspect', net])).stdout)[0];
    assert.equal(inspect.IPAM.Config[0].Subnet, sub);
    assert.deepEqual(inspect.Labels, { team: 'a' });
    const eps = Object.values(inspect.Containers) as { Name: string; IPv4Address: string }[];
    assert.deepEqual(eps.map((e) => e.Name), ['web']);
    const ip = (await d.docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, 'web'])).stdout.trim();
    assert.equal(eps[0]!.IPv4Address, `${ip}/24`);
    const hosts = await d.docker(['exec', 'web', 'cat', '/etc/hosts', '/etc/hostname']);
    assert.match(hosts.stdout, new RegExp(`^${ip.replace(/\./g, '\\.')}\\twebhost$`, 'm'));
    assert.match(hosts.stdout, /^webhost$/m);

    const rm = await d.docker(['network', 'rm', net]);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /has active endpoints/);
    assert.equal((await d.http('DELETE', `/networks/${net}`)).status, 403);

    assert.equal((await d.docker(['rm', '-f', 'web'])).code, 0);
    assert.equal((await d.docker(['network', 'rm', net])).code, 0);
    assert.deepEqual(d.netLeftovers().links.filter((l) => l !== d.bridge), []);
  });

  test('the default bridge: its own subnet, the host resolvers, isolation from user networks', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; ip route; cat /etc/resolv.conf']);
    assert.equal(r.code, 0, r.stderr);
    const prefix = d.bip.split('.').slice(0, 3).join('.');
    assert.match(r.stdout, new RegExp(`inet ${prefix.replace(/\./g, '\\.')}\\.\\d+/24`));
    assert.match(r.stdout, new RegExp(`default via ${d.bip.split('/')[0]!.replace(/\./g, '\\.')}`));
    assert.doesNotMatch(r.stdout, /nameserver 127\./);
  });

  // the runtime creates the task while the CNI plugins still set up the namespace (runner.ts)
  test('the task starts only once its network is up: hosts names its address, an interface sysctl applies, a failed ADD leaves nothing', async () => {
    const net = `u-${randomBytes(3).toString('hex')}`;
    const sub = subnet();
    const ip = sub.replace(/0\/24$/, '66');
    assert.equal((await d.docker(['network', 'create', '--subnet', sub, net])).code, 0);
    const r = await d.docker(['run', '-d', '--name', 'fixed', '--network', net, '--ip', ip, '--sysctl', 'net.ipv4.conf.eth0.route_localnet=1',
      'busybox', 'sh', '-c', 'cat /etc/hosts /proc/sys/net/ipv4/conf/eth0/route_localnet; ip -4 -o addr show eth0; sleep 60']);
    assert.equal(r.code, 0, r.stderr);
    const logs = await retry(async () => {
      const l = (await d.docker(['logs', 'fixed'])).stdout;
      assert.match(l, /inet /);
      return l;
    });
    assert.match(logs, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+\\S+`, 'm'), 'hosts names the address at the first read');
    assert.match(logs, /^1$/m);
    const netns = d.netLeftovers().netns;
    const taken = await d.docker(['run', '--name', 'clash', '--network', net, '--ip', ip, 'busybox', 'true']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /Address already in use|not available/);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Running}}', 'clash'])).stdout.trim(), 'created false');
    assert.deepEqual(d.netLeftovers().netns, netns, 'no namespace left by the failed start');
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'fixed'])).stdout.trim(), 'true', 'the running one is untouched');
    assert.equal((await d.docker(['exec', 'fixed', 'ping', '-c', '1', '-W', '2', sub.replace(/0\/24$/, '1')])).code, 0, 'and keeps its network');
    assert.equal((await d.docker(['rm', '-f', 'fixed', 'clash'])).code, 0);
    assert.equal((await d.docker(['network', 'rm', net])).code, 0);
  });

  test('ports: -p ip:host:ctr, host:ctr, a random port, -P; port and ps show them; traffic over 127.0.0.1', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const run = await d.docker(['run', '-d', '--name', 'pub', '--expose', '81', '-p', `127.0.0.1:${p1}:80`, '-p', `${p2}:80`, '-p', '8080', '-P',
      'busybox', 'sh', '-c', 'echo published > /i.txt; httpd -p 80 -h /; httpd -f -p 8080 -h /']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await retry(() => httpGet(p1, '/i.txt')), 'published\n');
    assert.equal(await retry(() => httpGet(p2, '/i.txt')), 'published\n');
    const port = await d.docker(['port', 'pub']);
    assert.match(port.stdout, new RegExp(`^80/tcp -> 127\\.0\\.0\\.1:${p1}$`, 'm'));
    assert.match(port.stdout, new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:${p2}$`, 'm'));
    const random = Number(/^8080\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(port.stdout)?.[1]);
    assert.ok(random > 0, port.stdout);
    assert.match(port.stdout, /^81\/tcp -> 0\.0\.0\.0:\d+$/m, '-P publishes exposed ports');
    assert.equal(await retry(() => httpGet(random, '/i.txt')), 'published\n');
    const ps = await d.docker(['ps', '--format', '{{.Ports}}', '--filter', 'name=pub']);
    assert.match(ps.stdout, new RegExp(`127\\.0\\.0\\.1:${p1}->80/tcp`));
    assert.match(ps.stdout, new RegExp(`0\\.0\\.0\\.0:${random}->8080/tcp`));

    // a taken host port: refused at start, nothing created for it
    const clash = await d.docker(['run', '--rm', '--name', 'clash', '-p', `${p2}:80`, 'busybox', 'true']);
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${p2} failed: port is already allocated`));
    // a port a host process holds
    const p3 = await freePort();
    const holder = createServer().listen(p3, '127.0.0.1');
    try {
      const taken = await d.docker(['run', '--rm', '-p', `${p3}:80`, 'busybox', 'true']);
      assert.equal(taken.code, 125);
      assert.match(taken.stderr, /address already in use/);
    } finally {
      holder.close();
    }
    assert.equal((await d.docker(['rm', '-f', 'pub'])).code, 0);
    await assert.rejects(httpGet(p1, '/i.txt'));
    const rules = d.netLeftovers().rules.filter((l) => l.includes('CNI-DN'));
    assert.deepEqual(rules, []);
  });

  test('host, none and container: modes', async () => {
    const none = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(none.stdout.trim().split('\n').map((l) => l.split(':')[1]!.trim()), ['lo']);
    const host = await d.docker(['run', '--rm', '--network', 'host', 'busybox', 'hostname']);
    assert.equal(host.stdout.trim(), hostname());
    assert.equal((await d.docker(['run', '-d', '--name', 'base', 'busybox', 'sleep', '60'])).code, 0);
    const ip = (await d.docker(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'base'])).stdout.trim();
    assert.match(ip, /^10\./);
    const joined = await d.docker(['run', '--rm', '--network', 'container:base', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(joined.stdout, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    await d.docker(['rm', '-f', 'base']);
  });

  test('connect and disconnect a running container, with --ip and --alias', async () => {
    const net = `c-${randomBytes(3).toString('hex')}`;
    const sub = subnet();
    const staticIp = sub.replace(/0\/24$/, '77');
    assert.equal((await d.docker(['network', 'create', '--subnet', sub, net])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'late', 'busybox', 'sh', '-c', 'httpd -f -p 80 -h /etc'])).code, 0);
    const c = await d.docker(['network', 'connect', '--ip', staticIp, '--alias', 'joiner', net, 'late']);
    assert.equal(c.code, 0, c.stderr);
    const addr = await d.docker(['exec', 'late', 'ip', '-4', '-o', 'addr', 'show', 'eth1']);
    assert.match(addr.stdout, new RegExp(`inet ${staticIp.replace(/\./g, '\\.')}/24`));
    const fetch = await d.docker(['run', '--rm', '--network', net, 'busybox', 'wget', '-qO-', 'http://joiner/hostname']);
    assert.equal(fetch.code, 0, fetch.stderr);
    const again = await d.docker(['network', 'connect', net, 'late']);
    assert.equal(again.code, 1);
    assert.equal((await d.docker(['network', 'disconnect', net, 'late'])).code, 0);
    const gone = await d.docker(['exec', 'late', 'ip', 'link', 'show', 'eth1']);
    assert.notEqual(gone.code, 0);
    await d.docker(['rm', '-f', 'late']);
    assert.equal((await d.docker(['network', 'rm', net])).code, 0);
  });

  test('bad input: clear errors with Docker status codes, nothing half-created', async () => {
    const before = (await d.docker(['network', 'ls', '-q'])).stdout;
    const sub = subnet();
    assert.equal((await d.docker(['network', 'create', '--subnet', sub, 'ov1'])).code, 0);
    const overlap = await d.http('POST', '/networks/create', JSON.stringify({ Name: 'ov2', IPAM: { Config: [{ Subnet: sub.replace(/0\/24$/, '128/25') }] } }));
    assert.equal(overlap.status, 403);
    assert.match(JSON.parse(overlap.body).message, /Pool overlaps/);
    const cidr = await d.docker(['network', 'create', '--subnet', '10.1.2/24', 'bad']);
    assert.equal(cidr.code, 1);
    assert.match(cidr.stderr, /invalid CIDR address: 10\.1\.2\/24/);
    const gw = await d.http('POST', '/networks/create', JSON.stringify({ Name: 'bad', IPAM: { Config: [{ Subnet: '10.9.9.0/24', Gateway: '10.9.8.1' }] } }));
    assert.equal(gw.status, 400);
    const dup = await d.http('POST', '/networks/create', JSON.stringify({ Name: 'ov1' }));
    assert.equal(dup.status, 409);
    assert.equal((await d.http('GET', '/networks/nosuch')).status, 404);
    const unknown = await d.http('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { NetworkMode: 'nosuch' } }));
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).message, 'network nosuch not found');
    const ipNoSubnet = await d.docker(['create', '--ip', '10.0.0.5', 'busybox']);
    assert.equal(ipNoSubnet.code, 1);
    assert.match(ipNoSubnet.stderr, /user specified IP address is supported only when connecting to networks with user configured subnets/);
    assert.equal((await d.http('DELETE', '/networks/bridge')).status, 403);
    assert.equal((await d.docker(['network', 'rm', 'ov1'])).code, 0);
    assert.equal((await d.docker(['network', 'ls', '-q'])).stdout, before);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
  });

  test('ls filters, prune, and IPAM that survives a daemon crash without handing an address out twice', async () => {
    const net = `k-${randomBytes(3).toString('hex')}`;
    assert.equal((await d.docker(['network', 'create', '--label', 'keep=no', net])).code, 0);
    const ls = await d.docker(['network', 'ls', '--filter', 'label=keep=no', '--format', '{{.Name}}']);
    assert.equal(ls.stdout, `${net}\n`);
    assert.equal((await d.docker(['run', '-d', '--name', 'k1', '--network', net, 'busybox', 'sleep', '60'])).code, 0);
    const ip1 = (await d.docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, 'k1'])).stdout.trim();
    d.kill9();
    await d.launch();
    assert.equal((await d.docker(['run', '-d', '--name', 'k2', '--network', net, 'busybox', 'sleep', '60'])).code, 0);
    const ip2 = (await d.docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, 'k2'])).stdout.trim();
    assert.notEqual(ip1, ip2);
    assert.equal((await d.docker(['exec', 'k2', 'ping', '-c1', '-W2', 'k1'])).code, 0);
    await d.docker(['rm', '-f', 'k1', 'k2']);
    const prune = await d.docker(['network', 'prune', '-f']);
    assert.match(prune.stdout, new RegExp(net));
    assert.equal((await d.docker(['network', 'ls', '--filter', 'type=custom', '-q'])).stdout, '');
  });

  test('a clean daemon stop leaves no bridge, rule or namespace behind', async () => {
    assert.equal((await d.docker(['network', 'create', 'last'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--network', 'last', '--stop-timeout', '1', '-p', '127.0.0.1::80', 'busybox', 'sleep', '60'])).code, 0);
    await d.stopDaemon();
    assert.deepEqual(d.netLeftovers(), { links: [], rules: [], netns: [] });
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
    await d.launch();
    await d.docker(['rm', '-f', ...(await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean)]);
    assert.equal((await d.docker(['network', 'rm', 'last'])).code, 0);
  });
});

describe('ps filters on networks, volumes and ports', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('ps --filter network=, volume=, publish=, expose=', async () => {
    assert.equal((await d.docker(['network', 'create', 'pf'])).code, 0);
    const port = await freePort();
    assert.equal((await d.docker(['run', '-d', '--name', 'f1', '--network', 'pf', '-v', 'fv:/data', '-p', `${port}:80`, 'busybox', 'sleep', '60'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'f2', '--expose', '9000', 'busybox', 'sleep', '60'])).code, 0);
    const names = async (f: string) => (await d.docker(['ps', '--filter', f, '--format', '{{.Names}}'])).stdout.trim();
    assert.equal(await names('network=pf'), 'f1');
    assert.equal(await names('volume=fv'), 'f1');
    assert.equal(await names('volume=/data'), 'f1');
    assert.equal(await names(`publish=${port}`), 'f1');
    assert.equal(await names('expose=9000'), 'f2');
    await d.docker(['rm', '-f', 'f1', 'f2']);
  });
});
