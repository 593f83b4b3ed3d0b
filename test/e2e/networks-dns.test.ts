/**
 * The DNS of user-defined networks through the real docker CLI against a
 * real berthd: a container's names and aliases are in the network's DNS
 * exactly while it has an endpoint there (start, connect) and leave it when
 * it stops, dies, is removed or disconnected. Every address is on this
 * daemon's own bridges.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TestDaemon } from '../support/daemon.js';

/** A /24 of 10.x that no other test run is likely to pick at the same time. */
function subnet(): string {
  const r = randomBytes(2);
  return `10.${150 + (r[0]! % 40)}.${r[1]}.0/24`;
}

describe('network DNS', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  const ipOf = async (name: string, net: string) =>
    (await d.docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name])).stdout.trim();

  /** The IPv4 addresses `nslookup name` gives in the client container, sorted; [] for a name the network does not know. */
  const lookup = async (client: string, name: string): Promise<string[]> => {
    const r = await d.docker(['exec', client, 'nslookup', '-type=a', name]);
    const answer = r.stdout.split(/\n\s*\n/).slice(1).join('\n');
    return [...answer.matchAll(/^Address(?: \d+)?:\s*(\d+\.\d+\.\d+\.\d+)/gm)].map((m) => m[1]!).sort();
  };

  test('an alias answers with the live containers only: rm, stop, start and disconnect change the answer', async () => {
    const net = `dns-${randomBytes(3).toString('hex')}`;
    const created = await d.docker(['network', 'create', '--subnet', subnet(), net]);
    assert.equal(created.code, 0, created.stderr);
    // the gateway (the DNS server) keeps its MAC while containers come and go: else the others' ARP entry goes stale
    const bridgeMac = () => readFileSync(`/sys/class/net/br-${created.stdout.trim().slice(0, 12)}/address`, 'utf8').trim();
    const mac = bridgeMac();
    for (const n of ['s1', 's2']) {
      const r = await d.docker(['run', '-d', '--name', n, '--network', net, '--network-alias', 'svc', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'rm -f /tmp/die; until [ -f /tmp/die ]; do sleep 0.1; done']);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await d.docker(['run', '-d', '--name', 'client', '--network', net, 'busybox', 'sleep', '600'])).code, 0);
    // Docker's embedded DNS address, routed to berth's DNS server on the gateway
    const resolv = await d.docker(['exec', 'client', 'cat', '/etc/resolv.conf']);
    assert.match(resolv.stdout, /^nameserver 127\.0\.0\.11$/m);
    assert.doesNotMatch(resolv.stdout, /^nameserver (?!127\.0\.0\.11$)/m);
    assert.match(resolv.stdout, /^options .*\bndots:0\b/m);
    assert.match((await d.docker(['exec', 'client', 'nslookup', 's1'])).stdout, /^Server:\s+127\.0\.0\.11$/m);
    const [ip1, ip2] = [await ipOf('s1', net), await ipOf('s2', net)];
    assert.deepEqual(await lookup('client', 'svc'), [ip1, ip2].sort());

    assert.equal((await d.docker(['rm', '-f', 's1'])).code, 0);
    assert.deepEqual(await lookup('client', 'svc'), [ip2], 'a removed container leaves the alias');
    assert.deepEqual(await lookup('client', 's1'), [], 'and its name');

    assert.equal((await d.docker(['stop', 's2'])).code, 0);
    assert.deepEqual(await lookup('client', 'svc'), [], 'a stopped container leaves the alias');
    assert.deepEqual(await lookup('client', 's2'), []);

    assert.equal((await d.docker(['start', 's2'])).code, 0);
    const ip2b = await ipOf('s2', net);
    assert.deepEqual(await lookup('client', 'svc'), [ip2b], 'a started container is back');
    assert.deepEqual(await lookup('client', 's2'), [ip2b]);

    // dies on its own: the task exits
    assert.equal((await d.docker(['exec', 's2', 'touch', '/tmp/die'])).code, 0);
    assert.equal((await d.docker(['wait', 's2'])).code, 0);
    assert.deepEqual(await lookup('client', 'svc'), [], 'a container that died leaves the alias');

    assert.equal((await d.docker(['start', 's2'])).code, 0);
    assert.deepEqual(await lookup('client', 'svc'), [await ipOf('s2', net)]);
    assert.equal((await d.docker(['network', 'disconnect', net, 's2'])).code, 0);
    assert.deepEqual(await lookup('client', 'svc'), [], 'a disconnected container leaves the alias');
    assert.deepEqual(await lookup('client', 's2'), []);

    const c = await d.docker(['network', 'connect', '--alias', 'svc', net, 's2']);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(await lookup('client', 'svc'), [await ipOf('s2', net)], 'connect brings it back');

    assert.equal(bridgeMac(), mac, 'the bridge kept its MAC address');

    assert.equal((await d.docker(['rm', '-f', 's2', 'client'])).code, 0);
    assert.equal((await d.docker(['network', 'rm', net])).code, 0);
  });
});
