/**
 * macvlan networks through the real docker CLI (and berth's), on a
 * one-node TestCluster: the node's eth0 is a veth into the LAN bridge, so
 * it plays a host's NIC as the macvlan parent, and the LAN namespace plays
 * the router and a LAN host (its bridge holds the network's gateway
 * address). This kernel has no ipvlan, 802.1q or dummy links: those paths
 * must say so, and leave nothing behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { runProgram } from '../support/daemon.js';
import { inNetns } from '../support/netns.js';

describe('macvlan networks', () => {
  let c: TestCluster;
  let n: TestNode;
  let prefix: string;
  let gateway: string;
  /** A LAN host's ping, from the LAN namespace. */
  const lanPing = (ip: string) => runProgram('nsenter', [`--net=${c.lanNetns}`, '--', 'busybox', 'ping', '-c', '1', '-W', '2', ip], {});
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string) => assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
  const ipOf = async (name: string, net: string) =>
    (await n.docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name])).stdout.trim();
  /** Links of a kind in the node's "host" namespace. */
  const nodeLinks = async (kind: string) => (await n.sh('ip', ['-o', 'link', 'show', 'type', kind])).stdout.trim();

  before(async () => {
    c = await TestCluster.start(1, { busybox: true });
    n = c.node(1);
    prefix = c.subnet.replace(/\.0\/24$/, '');
    gateway = `${prefix}.129`;
    // the LAN's router: the gateway address on the LAN bridge (goes with the LAN namespace)
    inNetns(c.lanNetns, 'ip', ['addr', 'add', `${gateway}/24`, 'dev', c.bridge]);
  });
  after(async () => {
    await c?.destroy();
    if (c) assert.deepEqual(c.leftovers(), { namespaces: [], links: [], mounts: [], cgroups: [], dirs: [], shims: [] });
  });

  test('create and inspect: driver macvlan, options parent and macvlan_mode, the IPAM config with aux addresses', async () => {
    const r = await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '-o', 'macvlan_mode=bridge', '--subnet', c.subnet,
      '--gateway', gateway, '--ip-range', `${prefix}.128/28`, '--aux-address', `router2=${prefix}.130`, 'mv1']);
    ok(r, 'network create');
    const net = JSON.parse((await n.docker(['network', 'inspect', 'mv1'])).stdout)[0];
    assert.equal(net.Driver, 'macvlan');
    assert.equal(net.Scope, 'local');
    assert.equal(net.Internal, false);
    assert.deepEqual(net.Options, { parent: 'eth0', macvlan_mode: 'bridge' });
    assert.deepEqual(net.IPAM.Config, [{ Subnet: c.subnet, Gateway: gateway, IPRange: `${prefix}.128/28`, AuxiliaryAddresses: { router2: `${prefix}.130` } }]);
    assert.match((await n.docker(['network', 'ls', '--filter', 'driver=macvlan', '--format', '{{.Name}} {{.Driver}}'])).stdout, /^mv1 macvlan$/m);
  });

  test('two containers on it reach each other by IP, and the LAN reaches them; the gateway and aux addresses are never handed out', async () => {
    ok(await n.docker(['run', '-d', '--name', 'c1', '--network', 'mv1', 'busybox', 'sleep', '300']), 'run c1');
    ok(await n.docker(['run', '-d', '--name', 'c2', '--network', 'mv1', '--ip', `${prefix}.200`, 'busybox', 'sleep', '300']), 'run c2 --ip');
    const ip1 = await ipOf('c1', 'mv1');
    // the range is .129-.142; .129 is the gateway and .130 an aux address
    assert.equal(ip1, `${prefix}.131`);
    assert.equal(await ipOf('c2', 'mv1'), `${prefix}.200`, '--ip may lie outside --ip-range, inside the subnet');
    ok(await n.docker(['exec', 'c1', 'ping', '-c', '1', '-W', '2', `${prefix}.200`]), 'c1 -> c2');
    ok(await n.docker(['exec', 'c2', 'ping', '-c', '1', '-W', '2', ip1]), 'c2 -> c1');
    // names, as on user bridge networks: berth's DNS server answers on 127.0.0.11 inside each container
    assert.match((await n.docker(['exec', 'c1', 'cat', '/etc/resolv.conf'])).stdout, /^nameserver 127\.0\.0\.11$/m);
    ok(await n.docker(['exec', 'c1', 'ping', '-c', '1', '-W', '2', 'c2']), 'c1 -> c2 by name');
    ok(await n.docker(['exec', 'c2', 'ping', '-c', '1', '-W', '2', 'c1']), 'c2 -> c1 by name');
    assert.match((await n.docker(['exec', 'c1', 'nslookup', 'c2'])).stdout, new RegExp(`Address:\\s+${prefix.replace(/\./g, '\\.')}\\.200`));
    ok(await lanPing(ip1), 'LAN -> c1');
    ok(await n.docker(['exec', 'c1', 'ping', '-c', '1', '-W', '2', gateway]), 'c1 -> the gateway on the LAN');
    assert.match((await n.docker(['exec', 'c1', 'ip', 'route'])).stdout, new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth0`, 'm'));
    assert.equal((await n.docker(['inspect', '-f', '{{(index .NetworkSettings.Networks "mv1").Gateway}}', 'c1'])).stdout.trim(), gateway);
    // the container's interface is a macvlan of eth0, in the container (nothing on the node's "host")
    assert.match((await n.docker(['exec', 'c1', 'cat', '/sys/class/net/eth0/address'])).stdout, /^[0-9a-f:]{17}$/m);
    assert.equal(await nodeLinks('macvlan'), '');
    for (const [ip, why] of [[`${prefix}.130`, /Address already in use/], [gateway, /no configured subnet or ip-range contain the IP address/]] as const) {
      const r = await n.docker(['run', '--rm', '--network', 'mv1', '--ip', ip, 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, why);
    }
    const several = [];
    for (let i = 0; i < 3; i++) several.push((await n.docker(['run', '--rm', '--network', 'mv1', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout);
    for (const s of several) assert.doesNotMatch(s, new RegExp(`inet (${prefix.replace(/\./g, '\\.')}\\.(129|130))/`), s);
  });

  test('after berthd is killed and comes back, the running containers still find each other by name', async () => {
    n.kill9();
    await n.restart();
    // the containers lived on with their shims; the DNS socket in their namespaces died with berthd and is made again
    const running = (await n.docker(['ps', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(running, ['c1', 'c2']);
    ok(await n.docker(['exec', 'c1', 'ping', '-c', '1', '-W', '2', 'c2']), 'c1 -> c2 by name after the restart');
  });

  test('network connect and disconnect: a container on the default bridge joins the macvlan network and leaves it', async () => {
    ok(await n.docker(['run', '-d', '--name', 'b1', 'busybox', 'sleep', '300']), 'run b1');
    ok(await n.docker(['network', 'connect', '--ip', `${prefix}.201`, 'mv1', 'b1']), 'connect');
    assert.match((await n.docker(['exec', 'b1', 'ip', '-4', '-o', 'addr', 'show', 'eth1'])).stdout, new RegExp(`inet ${prefix.replace(/\./g, '\\.')}\\.201/24`));
    ok(await n.docker(['exec', 'b1', 'ping', '-c', '1', '-W', '2', await ipOf('c1', 'mv1')]), 'b1 -> c1 over the macvlan');
    ok(await n.docker(['network', 'disconnect', 'mv1', 'b1']), 'disconnect');
    assert.notEqual((await n.docker(['exec', 'b1', 'ip', 'link', 'show', 'eth1'])).code, 0, 'eth1 is gone');
    ok(await n.docker(['rm', '-f', 'b1']), 'rm b1');
  });

  test('networks share a parent, except in passthru mode; a missing parent, lo and a bad mode are refused with Docker\'s errors', async () => {
    const id = (await n.docker(['network', 'inspect', '-f', '{{.Id}}', 'mv1'])).stdout.trim();
    ok(await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '10.99.7.0/24', 'mv-share']), 'a second network on eth0');
    const shared = await n.docker(['run', '--rm', '--network', 'mv-share', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(shared.stdout, /inet 10\.99\.7\.2\/24/);
    ok(await n.docker(['network', 'rm', 'mv-share']), 'rm mv-share');
    const busy = await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '-o', 'macvlan_mode=passthru', '--subnet', '10.99.7.0/24', 'mv-busy']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, new RegExp(`Error response from daemon: cannot use mode passthru, macvlan network ${id} is already using parent interface eth0`));
    ok(await n.sh('sh', ['-ec', 'ip link add mvr0 type veth peer name mvr1 && ip link set mvr0 up && ip link set mvr1 up']), 'veth');
    ok(await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvr0', '-o', 'macvlan_mode=passthru', '--subnet', '10.99.6.0/24', 'mv-pt']), 'passthru');
    const ptId = (await n.docker(['network', 'inspect', '-f', '{{.Id}}', 'mv-pt'])).stdout.trim();
    const onPt = await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvr0', '--subnet', '10.99.5.0/24', 'mv-busy']);
    assert.match(onPt.stderr, new RegExp(`macvlan network ${ptId} is already using parent interface mvr0 in mode passthru`));
    ok(await n.docker(['network', 'rm', 'mv-pt']), 'rm mv-pt');
    const missing = await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=nosuch0', '--subnet', '10.99.8.0/24', 'mv-missing']);
    assert.match(missing.stderr, /invalid subinterface vlan name nosuch0, example formatting is eth0\.10/);
    const missingVlan = await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=nosuch0.10', '--subnet', '10.99.8.0/24', 'mv-missing']);
    assert.match(missingVlan.stderr, /-o parent interface was not found on the host: nosuch0/);
    const lo = await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=lo', '--subnet', '10.99.9.0/24', 'mv-lo']);
    assert.match(lo.stderr, /loopback interface is not a valid macvlan parent link/);
    const mode = await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '-o', 'macvlan_mode=l2', '--subnet', '10.99.9.0/24', 'mv-mode']);
    assert.match(mode.stderr, /requested macvlan mode 'l2' is not valid, 'bridge' mode is the macvlan driver default/);
    const names = (await n.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout;
    assert.doesNotMatch(names, /mv-/);
  });

  test('an 802.1q parent (eth0.10): this kernel has no VLAN links, so the error says so and nothing is left', async () => {
    const r = await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0.10', '--subnet', '10.99.10.0/24', 'mv-vlan']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /failed to create eth0\.10 vlan link: this kernel has no 802\.1q VLAN support/);
    assert.equal((await n.sh('ip', ['-o', 'link', 'show', 'eth0.10'])).code !== 0, true, 'no eth0.10 left');
    assert.equal(await nodeLinks('vlan'), '');
    assert.doesNotMatch((await n.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout, /mv-vlan/);
  });

  test('-d ipvlan: this kernel has no ipvlan, and the error says so; the probe leaves no link', async () => {
    const r = await n.docker(['network', 'create', '-d', 'ipvlan', '-o', 'parent=eth0', '--subnet', '10.99.11.0/24', 'iv']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /this kernel has no ipvlan support/);
    assert.equal(await nodeLinks('ipvlan'), '');
    assert.equal((await n.sh('ip', ['-o', 'link'])).stdout.includes('ipvp'), false);
  });

  test('--internal: containers reach each other but have no default route and no gateway', async () => {
    // a second NIC for the node: a veth pair inside its namespace (goes with it)
    ok(await n.sh('sh', ['-ec', 'ip link add mvp0 type veth peer name mvp1 && ip link set mvp0 up && ip link set mvp1 up']), 'veth');
    ok(await n.docker(['network', 'create', '-d', 'macvlan', '--internal', '-o', 'parent=mvp0', '--subnet', '10.99.12.0/24', 'mv-int']), 'create --internal');
    assert.equal((await n.docker(['network', 'inspect', '-f', '{{.Internal}}', 'mv-int'])).stdout.trim(), 'true');
    ok(await n.docker(['run', '-d', '--name', 'i1', '--network', 'mv-int', 'busybox', 'sleep', '300']), 'run i1');
    ok(await n.docker(['run', '-d', '--name', 'i2', '--network', 'mv-int', 'busybox', 'sleep', '300']), 'run i2');
    ok(await n.docker(['exec', 'i1', 'ping', '-c', '1', '-W', '2', await ipOf('i2', 'mv-int')]), 'i1 -> i2');
    assert.doesNotMatch((await n.docker(['exec', 'i1', 'ip', 'route'])).stdout, /default/);
    assert.equal((await n.docker(['inspect', '-f', '{{(index .NetworkSettings.Networks "mv-int").Gateway}}', 'i1'])).stdout.trim(), '');
    // no parent: libnetwork would make a dummy parent; this kernel has none
    const noParent = await n.docker(['network', 'create', '-d', 'macvlan', '--internal', '--subnet', '10.99.13.0/24', 'mv-noparent']);
    assert.notEqual(noParent.code, 0);
    assert.match(noParent.stderr, /failed to create the dummy parent link dm-[0-9a-f]{12}: this kernel has no dummy links/);
    assert.equal(await nodeLinks('dummy'), '');
  });

  test('a parent that went away after the network was made: the container does not start, with Docker\'s words', async () => {
    const sandboxes = n.daemon.netLeftovers().netns; // the running containers'
    ok(await n.sh('ip', ['link', 'add', 'mvs0', 'type', 'veth', 'peer', 'name', 'mvs1']), 'veth');
    ok(await n.docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvs0', '--subnet', '10.99.16.0/24', 'mv-gone']), 'create');
    ok(await n.sh('ip', ['link', 'del', 'mvs0']), 'the parent goes');
    const r = await n.docker(['run', '--rm', '--network', 'mv-gone', 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the requested parent interface mvs0 was not found on the Docker host/);
    ok(await n.docker(['network', 'rm', 'mv-gone']), 'rm');
    assert.deepEqual(n.daemon.netLeftovers().netns, sandboxes, 'the failed start left no namespace');
  });

  test('berth network create -d macvlan with --aux-address and --internal, and berth run --ip', async () => {
    ok(await n.sh('sh', ['-ec', 'ip link add mvq0 type veth peer name mvq1 && ip link set mvq0 up && ip link set mvq1 up']), 'veth');
    const r = await n.berth(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvq0', '--subnet', '10.99.14.0/24', '--gateway', '10.99.14.254',
      '--ip-range', '10.99.14.0/28', '--aux-address', 'a=10.99.14.1', '--internal', 'mv-berth']);
    ok(r, 'berth network create');
    const net = JSON.parse((await n.docker(['network', 'inspect', 'mv-berth'])).stdout)[0];
    assert.equal(net.Driver, 'macvlan');
    assert.equal(net.Internal, true);
    assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.99.14.0/24', Gateway: '10.99.14.254', IPRange: '10.99.14.0/28', AuxiliaryAddresses: { a: '10.99.14.1' } }]);
    const run = await n.berth(['run', '--rm', '--network', 'mv-berth', '--ip', '10.99.14.77', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    ok(run, 'berth run --ip');
    assert.match(run.stdout, /inet 10\.99\.14\.77\/24/);
    const dyn = await n.berth(['run', '--rm', '--network', 'mv-berth', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(dyn.stdout, /inet 10\.99\.14\.2\/24/, 'the aux address .1 is skipped');
    const bad = await n.berth(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvq1', '--subnet', '10.99.15.0/24', '--aux-address', 'a=10.99.16.1', 'mv-bad']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no matching subnet for aux-address 10\.99\.16\.1/);
    ok(await n.docker(['network', 'rm', 'mv-berth']), 'rm');
  });

  test('rm of the containers and the networks leaves no macvlan link, namespace or address lease', async () => {
    ok(await n.docker(['rm', '-f', 'c1', 'c2', 'i1', 'i2']), 'rm containers');
    ok(await n.docker(['network', 'rm', 'mv1', 'mv-int']), 'network rm');
    assert.equal(await nodeLinks('macvlan'), '');
    assert.deepEqual(n.daemon.netLeftovers().netns, []);
    // host-local state: only that of networks still there (the default bridge, which b1 used)
    const ids = (await n.docker(['network', 'ls', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    const leases = (await n.sh('ls', [`${n.daemon.dataRoot}/networks/ipam`])).stdout.split('\n').filter(Boolean);
    assert.ok(leases.length > 0, 'the listing works');
    assert.deepEqual(leases.filter((d) => !ids.some((id) => d === `berth-${id.slice(0, 12)}`)), [], 'host-local state of removed networks goes');
    assert.doesNotMatch((await n.docker(['network', 'ls', '--format', '{{.Driver}}'])).stdout, /macvlan/);
  });
});
