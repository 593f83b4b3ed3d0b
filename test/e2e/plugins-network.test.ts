/**
 * Network and IPAM plugins (Docker's remote driver protocol) through the
 * real docker CLI, on a one-node TestCluster: the test plugin
 * (support/plugins/network-plugin.mjs) runs in the node's network
 * namespace, makes a bridge per network and a veth pair per endpoint
 * there, and records every call. Checked: the call sequence, the
 * container's interface (the plugin's link, its MAC, berth's or the IPAM
 * plugin's address, the routes), names across containers, a bridge
 * network with an IPAM plugin, and what a plugin that refuses or hangs
 * leaves behind (nothing) and tells the client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { pluginCalls, pluginDirs, startPlugin, type PluginDirs, type RunningPlugin } from '../support/plugins.js';

type Call = { method: string; body: Record<string, unknown> };

describe('network and IPAM plugins', () => {
  let c: TestCluster;
  let n: TestNode;
  let dirs: PluginDirs;
  let state: string;
  const running: RunningPlugin[] = [];
  const ok = (r: { code: number; stdout: string; stderr: string }, what: string) => assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
  const start = async (name: string, args: string[] = []) => {
    const p = await startPlugin('network-plugin.mjs', dirs.sockets, name, [join(state, name), ...args], { netns: n.netns });
    running.push(p);
  };
  const calls = (name: string, prefix = 'NetworkDriver.'): Call[] => pluginCalls(join(state, name)).filter((x) => x.method.startsWith(prefix));
  /** The plugins' links on the node: bridges nb*, veth ends nh* and nc*. */
  const pluginLinks = async () => (await n.sh('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter((l) => /^n[bhc][0-9a-f]{6}/.test(l));
  const inspect = async (name: string, net: string) =>
    JSON.parse((await n.docker(['inspect', '-f', `{{json (index .NetworkSettings.Networks "${net}")}}`, name])).stdout) as Record<string, string | number>;

  before(async () => {
    dirs = pluginDirs(3);
    state = mkdtempSync('/tmp/berth-e2e-netplugin-state-');
    c = await TestCluster.start(1, { busybox: true, daemon: { extraArgs: dirs.daemonArgs } });
    n = c.node(1);
    await start('tnet');
    await start('tnetbad', ['--fail', 'NetworkDriver.Join', '--softfail', 'NetworkDriver.CreateEndpoint']);
    await start('tnethang', ['--hang', 'NetworkDriver.Join']);
  });
  after(async () => {
    await c?.destroy();
    for (const p of running) await p.stop();
    dirs?.remove();
    if (state) rmSync(state, { recursive: true, force: true });
    if (c) assert.deepEqual(c.leftovers(), { namespaces: [], links: [], mounts: [], cgroups: [], dirs: [], shims: [] });
  });

  test('a plugin network: the container gets the plugin\'s link as eth0 with its MAC, the address, the routes; names resolve; calls in Docker\'s order', async () => {
    ok(await n.docker(['network', 'create', '-d', 'tnet', '--subnet', '10.88.0.0/24', '-o', 'color=blue', 'pn1']), 'network create');
    const net = JSON.parse((await n.docker(['network', 'inspect', 'pn1'])).stdout)[0];
    assert.equal(net.Driver, 'tnet');
    assert.equal(net.Scope, 'local');
    assert.deepEqual(net.Options, { color: 'blue' });
    assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.88.0.0/24', Gateway: '10.88.0.1' }]);
    const create = calls('tnet').find((x) => x.method === 'NetworkDriver.CreateNetwork')!;
    assert.equal(create.body.NetworkID, net.Id);
    assert.deepEqual((create.body.Options as Record<string, unknown>)['com.docker.network.generic'], { color: 'blue' });
    assert.deepEqual(create.body.IPv4Data, [{ AddressSpace: 'LocalDefault', Pool: '10.88.0.0/24', Gateway: '10.88.0.1/24' }]);

    ok(await n.docker(['run', '-d', '--name', 'p1', '--network', 'pn1', 'busybox', 'sleep', '300']), 'run p1');
    ok(await n.docker(['run', '-d', '--name', 'p2', '--network', 'pn1', 'busybox', 'sleep', '300']), 'run p2');
    const ep1 = await inspect('p1', 'pn1');
    assert.equal(ep1.IPAddress, '10.88.0.2');
    assert.equal(ep1.Gateway, '10.88.0.1');
    assert.match(String(ep1.MacAddress), /^02:42:ee:00:00:[0-9a-f]{2}$/);
    const addr = (await n.docker(['exec', 'p1', 'ip', 'addr', 'show', 'eth0'])).stdout;
    assert.match(addr, /inet 10\.88\.0\.2\/24/);
    assert.match(addr, new RegExp(`link/ether ${ep1.MacAddress}`));
    const routes = (await n.docker(['exec', 'p1', 'ip', 'route'])).stdout;
    assert.match(routes, /^default via 10\.88\.0\.1 dev eth0/m);
    assert.match(routes, /^10\.199\.0\.0\/16 via 10\.88\.0\.1 dev eth0/m);
    // the link the plugin handed over left the host; its peer is on the plugin's bridge
    const epId = String(ep1.EndpointID);
    assert.ok(!(await pluginLinks()).includes(`nc${epId.slice(0, 8)}`), 'the container end is in the container');
    assert.ok((await pluginLinks()).includes(`nh${epId.slice(0, 8)}`));
    const ip2 = String((await inspect('p2', 'pn1')).IPAddress);
    ok(await n.docker(['exec', 'p1', 'ping', '-c', '1', '-W', '2', ip2]), 'p1 -> p2');
    ok(await n.docker(['exec', 'p1', 'ping', '-c', '1', '-W', '2', '10.88.0.1']), 'p1 -> the gateway on the plugin\'s bridge');
    assert.match((await n.docker(['exec', 'p1', 'cat', '/etc/resolv.conf'])).stdout, /^nameserver 127\.0\.0\.11$/m);
    ok(await n.docker(['exec', 'p1', 'ping', '-c', '1', '-W', '2', 'p2']), 'p1 -> p2 by name');
    assert.ok(JSON.parse((await n.docker(['info', '--format', '{{json .Plugins.Network}}'])).stdout).includes('tnet'), 'docker info lists the plugin');
    const inNet = JSON.parse((await n.docker(['network', 'inspect', 'pn1'])).stdout)[0];
    assert.equal(Object.keys(inNet.Containers).length, 2);

    ok(await n.docker(['stop', '-t', '0', 'p1', 'p2']), 'stop');
    ok(await n.docker(['rm', 'p1', 'p2']), 'rm');
    ok(await n.docker(['network', 'rm', 'pn1']), 'network rm');
    const mine = calls('tnet').filter((x) => !x.body.EndpointID || x.body.EndpointID === epId).map((x) => x.method.replace('NetworkDriver.', ''));
    assert.deepEqual(mine, ['GetCapabilities', 'CreateNetwork', 'CreateEndpoint', 'Join', 'Leave', 'DeleteEndpoint', 'DeleteNetwork']);
    const ce = calls('tnet').find((x) => x.method === 'NetworkDriver.CreateEndpoint' && x.body.EndpointID === epId)!;
    assert.deepEqual(ce.body.Interface, { Address: '10.88.0.2/24', MacAddress: '' });
    const join = calls('tnet').find((x) => x.method === 'NetworkDriver.Join' && x.body.EndpointID === epId)!;
    assert.match(String(join.body.SandboxKey), /\/netns\/[0-9a-f]{12}$/);
    assert.deepEqual(await pluginLinks(), [], 'the plugin\'s links are gone');
  });

  test('--ipam-driver: a bridge network and a plugin network take pool, gateway and addresses from the IPAM plugin, and give them back', async () => {
    ok(await n.docker(['network', 'create', '--ipam-driver', 'tnet', '--ipam-opt', 'zone=a', '--subnet', '10.66.0.0/24', 'ib1']), 'bridge network with an IPAM plugin');
    const net = JSON.parse((await n.docker(['network', 'inspect', 'ib1'])).stdout)[0];
    assert.equal(net.Driver, 'bridge');
    assert.equal(net.IPAM.Driver, 'tnet');
    assert.deepEqual(net.IPAM.Options, { zone: 'a' });
    assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.66.0.0/24', Gateway: '10.66.0.1' }]);
    ok(await n.docker(['run', '-d', '--name', 'i1', '--network', 'ib1', 'busybox', 'sleep', '300']), 'run i1');
    ok(await n.docker(['run', '-d', '--name', 'i2', '--network', 'ib1', '--ip', '10.66.0.50', 'busybox', 'sleep', '300']), 'run i2 --ip');
    const taken = await n.docker(['run', '--rm', '--network', 'ib1', '--ip', '10.66.0.50', 'busybox', 'true']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /IpamDriver\.RequestAddress: address 10\.66\.0\.50 in use/);
    assert.equal((await inspect('i1', 'ib1')).IPAddress, '10.66.0.10', 'the plugin\'s first address (host-local would give .2)');
    assert.equal((await inspect('i2', 'ib1')).IPAddress, '10.66.0.50');
    assert.match((await n.docker(['exec', 'i1', 'ip', 'addr', 'show', 'eth0'])).stdout, /inet 10\.66\.0\.10\/24/);
    ok(await n.docker(['exec', 'i1', 'ping', '-c', '1', '-W', '2', 'i2']), 'i1 -> i2 by name on the bridge');

    ok(await n.docker(['network', 'create', '-d', 'tnet', '--ipam-driver', 'tnet', 'pn2']), 'plugin network with the plugin\'s default pool');
    assert.deepEqual(JSON.parse((await n.docker(['network', 'inspect', 'pn2'])).stdout)[0].IPAM.Config, [{ Subnet: '10.77.0.0/24', Gateway: '10.77.0.1' }]);
    const pn2 = calls('tnet').filter((x) => x.method === 'NetworkDriver.CreateNetwork').at(-1)!;
    assert.deepEqual(pn2.body.IPv4Data, [{ AddressSpace: 'tlocal', Pool: '10.77.0.0/24', Gateway: '10.77.0.1/24' }], 'the IPAM plugin\'s address space and gateway');
    ok(await n.docker(['network', 'connect', 'pn2', 'i1']), 'connect i1 to pn2');
    assert.equal((await inspect('i1', 'pn2')).IPAddress, '10.77.0.10');
    assert.match((await n.docker(['exec', 'i1', 'ip', 'addr', 'show', 'eth1'])).stdout, /inet 10\.77\.0\.10\/24/);
    ok(await n.docker(['network', 'disconnect', 'pn2', 'i1']), 'disconnect');
    assert.equal((await n.docker(['exec', 'i1', 'ip', 'link', 'show', 'eth1'])).code === 0, false, 'eth1 left the container');

    ok(await n.docker(['rm', '-f', 'i1', 'i2']), 'rm');
    ok(await n.docker(['network', 'rm', 'ib1', 'pn2']), 'network rm');
    const ipam = calls('tnet', 'IpamDriver.').map((x) => `${x.method.replace('IpamDriver.', '')} ${String(x.body.Address ?? x.body.Pool ?? '')}`.trim());
    const count = (s: string) => ipam.filter((x) => x === s).length;
    assert.equal(count('RequestAddress 10.66.0.50'), 2, 'i2, and the run refused');
    assert.equal(count('ReleaseAddress 10.66.0.10'), 1, `i1's address released: ${ipam.join(', ')}`);
    assert.equal(count('ReleaseAddress 10.66.0.50'), 1, 'only i2 had it');
    assert.equal(count('ReleaseAddress 10.77.0.10'), 1, 'released at disconnect');
    assert.equal(count('ReleaseAddress 10.66.0.1'), 1, 'the gateway');
    assert.equal(ipam.filter((x) => x.startsWith('ReleasePool')).length, 2);
    assert.equal(ipam.filter((x) => x.startsWith('RequestPool')).length, 2);
    assert.deepEqual(await pluginLinks(), []);
  });

  test('a plugin that refuses Join (or CreateEndpoint): the client sees its error, and no endpoint, address or link stays', async () => {
    ok(await n.docker(['network', 'create', '-d', 'tnetbad', '--subnet', '10.89.0.0/24', 'bad1']), 'network create');
    // CreateEndpoint answers 200 with Err set
    let r = await n.docker(['run', '-d', '--name', 'b1', '--network', 'bad1', 'busybox', 'sleep', '300']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /remote: NetworkDriver\.CreateEndpoint refused by the test plugin/);
    ok(await n.docker(['rm', '-f', 'b1']), 'rm b1');
    ok(await n.docker(['network', 'rm', 'bad1']), 'network rm');
    // Join answers 500
    const p = await startPlugin('network-plugin.mjs', dirs.sockets, 'tnetjoin', [join(state, 'tnetjoin'), '--fail', 'NetworkDriver.Join'], { netns: n.netns });
    running.push(p);
    ok(await n.docker(['network', 'create', '-d', 'tnetjoin', '--subnet', '10.90.0.0/24', 'bad2']), 'network create');
    r = await n.docker(['run', '-d', '--name', 'b2', '--network', 'bad2', 'busybox', 'sleep', '300']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NetworkDriver\.Join: NetworkDriver\.Join refused by the test plugin/);
    const seq = calls('tnetjoin').map((x) => x.method.replace('NetworkDriver.', ''));
    assert.deepEqual(seq, ['GetCapabilities', 'CreateNetwork', 'CreateEndpoint', 'Join', 'DeleteEndpoint']);
    assert.deepEqual(await pluginLinks(), ['nb' + String(JSON.parse((await n.docker(['network', 'inspect', 'bad2'])).stdout)[0].Id).slice(0, 6)], 'only the network\'s bridge');
    assert.deepEqual(JSON.parse((await n.docker(['network', 'inspect', 'bad2'])).stdout)[0].Containers, {});
    // the address went back to berth's IPAM (host-local keeps one file per leased address)
    const leased = await n.sh('find', [n.daemon.dataRoot, '-name', '10.90.0.*']);
    assert.equal(leased.stdout.trim(), '');
    ok(await n.docker(['rm', '-f', 'b2']), 'rm b2');
    ok(await n.docker(['network', 'rm', 'bad2']), 'network rm');
    assert.deepEqual(await pluginLinks(), []);
  });

  test('a plugin that refuses CreateNetwork: no network, and the IPAM plugin\'s pool and gateway go back', async () => {
    const p = await startPlugin('network-plugin.mjs', dirs.sockets, 'tnetcn', [join(state, 'tnetcn'), '--fail', 'NetworkDriver.CreateNetwork'], { netns: n.netns });
    running.push(p);
    const r = await n.docker(['network', 'create', '-d', 'tnetcn', '--ipam-driver', 'tnetcn', 'cn1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NetworkDriver\.CreateNetwork: NetworkDriver\.CreateNetwork refused by the test plugin/);
    assert.equal((await n.docker(['network', 'ls', '-q', '--filter', 'name=cn1'])).stdout.trim(), '');
    const ipam = calls('tnetcn', 'IpamDriver.').map((x) => `${x.method.replace('IpamDriver.', '')} ${String(x.body.Address ?? x.body.PoolID ?? '')}`.trim());
    assert.deepEqual(ipam, ['GetDefaultAddressSpaces', 'RequestPool', 'RequestAddress', 'ReleaseAddress 10.77.0.1', 'ReleasePool tpool-1']);
    assert.deepEqual(await pluginLinks(), []);
  });

  test('a plugin that hangs at Join: the start fails with a timeout while the API goes on answering', async () => {
    ok(await n.docker(['network', 'create', '-d', 'tnethang', '--subnet', '10.91.0.0/24', 'hang1']), 'network create');
    const started = Date.now();
    const run = n.docker(['run', '-d', '--name', 'h1', '--network', 'hang1', 'busybox', 'sleep', '300']);
    await new Promise((res) => setTimeout(res, 500));
    const t0 = Date.now();
    ok(await n.docker(['ps', '-a']), 'docker ps while the plugin hangs');
    assert.ok(Date.now() - t0 < 2500, `docker ps took ${Date.now() - t0} ms`);
    const r = await run;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NetworkDriver\.Join: plugin tnethang did not answer within 3s/);
    assert.ok(Date.now() - started < 30_000);
    const seq = calls('tnethang').map((x) => x.method.replace('NetworkDriver.', ''));
    assert.deepEqual(seq.slice(-2), ['Join', 'DeleteEndpoint']);
    ok(await n.docker(['rm', '-f', 'h1']), 'rm h1');
    ok(await n.docker(['network', 'rm', 'hang1']), 'network rm');
    assert.deepEqual(await pluginLinks(), [], JSON.stringify(calls('tnethang').map((x) => x.method)));
  });

  test('berthd killed and started again: a container on a plugin network keeps its link and names; its removal then calls Leave and DeleteEndpoint', async () => {
    ok(await n.docker(['network', 'create', '-d', 'tnet', '--subnet', '10.92.0.0/24', 'pr1']), 'network create');
    ok(await n.docker(['run', '-d', '--name', 'r1', '--network', 'pr1', 'busybox', 'sleep', '300']), 'run r1');
    ok(await n.docker(['run', '-d', '--name', 'r2', '--network', 'pr1', 'busybox', 'sleep', '300']), 'run r2');
    const epId = String((await inspect('r1', 'pr1')).EndpointID);
    n.kill9();
    await n.restart();
    assert.equal((await n.docker(['inspect', '-f', '{{.State.Running}}', 'r1'])).stdout.trim(), 'true');
    assert.match((await n.docker(['exec', 'r1', 'ip', 'addr', 'show', 'eth0'])).stdout, /inet 10\.92\.0\.2\/24/);
    ok(await n.docker(['exec', 'r1', 'ping', '-c', '1', '-W', '2', 'r2']), 'r1 -> r2 by name after the restart');
    ok(await n.docker(['rm', '-f', 'r1', 'r2']), 'rm');
    const mine = calls('tnet').filter((x) => x.body.EndpointID === epId).map((x) => x.method.replace('NetworkDriver.', ''));
    assert.deepEqual(mine, ['CreateEndpoint', 'Join', 'Leave', 'DeleteEndpoint']);
    ok(await n.docker(['network', 'rm', 'pr1']), 'network rm');
    assert.deepEqual(await pluginLinks(), []);
  });

  test('an unknown driver or IPAM driver is refused in Docker\'s words', async () => {
    let r = await n.docker(['network', 'create', '-d', 'nosuch', 'x1']);
    assert.match(r.stderr, /could not find plugin nosuch in v1 plugin registry: plugin not found/);
    r = await n.docker(['network', 'create', '--ipam-driver', 'nosuch', 'x2']);
    assert.match(r.stderr, /could not find plugin nosuch in v1 plugin registry: plugin not found/);
    assert.equal((await n.docker(['network', 'ls', '-q', '--filter', 'name=x'])).stdout.trim(), '');
  });
});
