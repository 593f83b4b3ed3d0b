/**
 * Overlay networks across a 3-node swarm (node1 manager, node2 and node3
 * workers) with the real docker CLI: create on the manager, seen on every
 * node; containers on different nodes reach each other by address and by
 * name over VXLAN between the nodes' LAN addresses; rm everywhere; a node's
 * berthd killed and restarted restores its state and sweeps what was
 * removed meanwhile. The harness namespaces hold every device and rule;
 * each test checks the nodes for what it should have removed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

interface NetworkView {
  Id: string;
  Name: string;
  Scope: string;
  Driver: string;
  Internal: boolean;
  Attachable: boolean;
  IPAM: { Config: { Subnet: string; Gateway: string }[] };
  Options: Record<string, string>;
  Peers?: { Name: string; IP: string }[];
  Containers: Record<string, { Name: string; IPv4Address: string }>;
}

describe('overlay networks across hosts with the docker CLI', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let n3: TestNode;
  const inspect = async (n: TestNode, net: string): Promise<NetworkView> => (JSON.parse(await n.dockerOk(['network', 'inspect', net])) as NetworkView[])[0]!;
  /** The node's links, by name (its own namespace). */
  const links = async (n: TestNode): Promise<string[]> =>
    (await n.sh('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter(Boolean);
  const ruleCount = async (n: TestNode, what: string): Promise<number> =>
    (await n.sh('iptables-save', [])).stdout.split('\n').filter((l) => l.includes(what)).length;

  /** What a failure message needs: the container's state, the node's links, FDB and neighbours, its daemon's log. */
  const diag = async (n: TestNode, container: string): Promise<string> => {
    const state = (await n.docker(['inspect', '--format', '{{json .State}} {{json .NetworkSettings.Networks}}', container])).stdout;
    const fdb = (await n.sh('sh', ['-c', 'for d in /sys/class/net/vx-*; do bridge fdb show dev ${d##*/}; ip neigh show dev ${d##*/}; done'])).stdout;
    return `--- ${n.name} ${container}: ${state}\n${fdb}\n${n.daemon.logs.slice(-2500)}`;
  };

  before(async () => {
    c = await TestCluster.start(3, { busybox: true });
    [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
  });
  after(async () => {
    await c?.destroy();
    if (!c) return;
    const left = c.leftovers();
    // namespace ids are inode numbers: once ours are gone, another test's namespace may get one (held by mounts of its own dirs)
    const ours = [c.dir, ...c.nodes.map((n) => n.daemon.dir)];
    left.namespaces = left.namespaces.filter((x) => ours.some((d) => x.includes(d)) || !x.includes('mounts [/'));
    assert.deepEqual(left, { namespaces: [], links: [], mounts: [], cgroups: [], dirs: [], shims: [] });
  });

  test('outside a swarm, create -d overlay is refused with Docker\'s words', async () => {
    const r = await n1.docker(['network', 'create', '-d', 'overlay', 'nope']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again\./);
  });

  test('a 3-node swarm: node1 manager, node2 and node3 workers', async () => {
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    await n2.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    await n3.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    const r = await n2.docker(['network', 'create', '-d', 'overlay', 'nope']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state\./);
  });

  let ovl: NetworkView;
  test('create on the manager: every node lists it (swarm scope, overlay driver) with a VXLAN device of its VNI', async () => {
    const id = (await n1.dockerOk(['network', 'create', '-d', 'overlay', '--attachable', 'ovl'])).trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    for (const n of [n1, n2, n3]) {
      await waitFor(async () => (await n.docker(['network', 'ls', '--filter', 'driver=overlay', '--format', '{{.Name}} {{.Scope}} {{.Driver}}'])).stdout.trim() === 'ingress swarm overlay\novl swarm overlay', 15_000, `${n.name} lists ingress and ovl`);
    }
    ovl = await inspect(n1, 'ovl');
    assert.equal(ovl.Id, id);
    assert.equal(ovl.Scope, 'swarm');
    assert.equal(ovl.Driver, 'overlay');
    assert.equal(ovl.Attachable, true);
    // the swarm's ingress network holds 10.0.0.0/24 and VNI 4096, as in Docker
    assert.equal(ovl.IPAM.Config[0]!.Subnet, '10.0.1.0/24');
    assert.equal(ovl.IPAM.Config[0]!.Gateway, '10.0.1.1');
    const vni = Number(ovl.Options['com.docker.network.driver.overlay.vxlanid_list']);
    assert.equal(vni, 4097);
    for (const n of [n1, n2, n3]) {
      const vx = `vx-${id.slice(0, 12)}`;
      const d = JSON.parse((await n.sh('ip', ['-d', '-j', 'link', 'show', 'dev', vx])).stdout) as { mtu: number; master: string; linkinfo: { info_data: { id: number; port: number; local: string; learning: boolean; proxy: boolean } } }[];
      const info = d[0]!.linkinfo.info_data;
      assert.deepEqual([info.id, info.port, info.local, info.learning, info.proxy, d[0]!.mtu, d[0]!.master], [vni, 4789, n.ip, false, true, 1450, `ov-${id.slice(0, 12)}`], n.name);
    }
    await waitFor(async () => ((await inspect(n2, 'ovl')).Peers ?? []).length === 3, 15_000, 'three peers');
    const peers = (await inspect(n2, 'ovl')).Peers!.map((p) => p.IP).sort();
    assert.deepEqual(peers, [n1.ip, n2.ip, n3.ip].sort());
  });

  test('a second network gets the next subnet and VNI; a user subnet overlapping it is refused', async () => {
    await n1.dockerOk(['network', 'create', '-d', 'overlay', 'ovl2']);
    const two = await inspect(n1, 'ovl2');
    assert.equal(two.IPAM.Config[0]!.Subnet, '10.0.2.0/24');
    assert.equal(two.Options['com.docker.network.driver.overlay.vxlanid_list'], '4098');
    const r = await n1.docker(['network', 'create', '-d', 'overlay', '--subnet', '10.0.2.128/25', 'ovl3']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid pool request: Pool overlaps with other one on this address space/);
    const dup = await n1.docker(['network', 'create', '-d', 'overlay', 'ovl2']);
    assert.match(dup.stderr, /network with name ovl2 already exists/);
    const notAttachable = await n2.docker(['run', '--rm', '--network', 'ovl2', 'busybox', 'true']);
    assert.notEqual(notAttachable.code, 0);
    assert.match(notAttachable.stderr, /network ovl2 not manually attachable/);
    // only the node's swarm agent makes task containers: a task label from the client is no pass
    const forged = await n2.docker(['run', '--rm', '--label', 'com.docker.swarm.task.id=x', '--network', 'ovl2', 'busybox', 'true']);
    assert.match(forged.stderr, /network ovl2 not manually attachable/);
    await n1.dockerOk(['network', 'rm', 'ovl2']);
  });

  test('containers on node1 and node2 reach each other by address and by name over VXLAN; eth0 MTU 1450', async () => {
    await n1.dockerOk(['run', '-d', '--network', 'ovl', '--name', 'alpha', 'busybox', 'sleep', '600']);
    await n2.dockerOk(['run', '-d', '--network', 'ovl', '--name', 'bravo', 'busybox', 'sleep', '600']);
    const ipA = (await n1.dockerOk(['inspect', '--format', '{{.NetworkSettings.Networks.ovl.IPAddress}}', 'alpha'])).trim();
    const ipB = (await n2.dockerOk(['inspect', '--format', '{{.NetworkSettings.Networks.ovl.IPAddress}}', 'bravo'])).trim();
    assert.match(ipA, /^10\.0\.1\.\d+$/);
    assert.match(ipB, /^10\.0\.1\.\d+$/);
    assert.notEqual(ipA, ipB, 'addresses are allocated cluster-wide');
    assert.equal((await n2.dockerOk(['exec', 'bravo', 'cat', '/sys/class/net/eth0/mtu'])).trim(), '1450');
    await waitFor(async () => (await n2.docker(['exec', 'bravo', 'ping', '-c1', '-W2', ipA])).code === 0, 20_000, 'bravo pings alpha by address');
    await n1.dockerOk(['exec', 'alpha', 'ping', '-c1', '-W2', ipB]);
    await waitFor(async () => (await n2.docker(['exec', 'bravo', 'ping', '-c1', '-W2', 'alpha'])).code === 0, 10_000, 'bravo pings alpha by name');
    await n1.dockerOk(['exec', 'alpha', 'ping', '-c1', '-W2', 'bravo']);
    // the frames went through the VXLAN devices (their counters moved), and node1 knows b's MAC behind node2's address
    const vx = `vx-${ovl.Id.slice(0, 12)}`;
    const fdb = (await n1.sh('bridge', ['fdb', 'show', 'dev', vx])).stdout;
    const macB = (await n2.dockerOk(['inspect', '--format', '{{.NetworkSettings.Networks.ovl.MacAddress}}', 'bravo'])).trim();
    assert.match(fdb, new RegExp(`${macB} dst ${n2.ip.replace(/\./g, '\\.')} self permanent`));
    const tx = Number((await n1.sh('cat', [`/sys/class/net/${vx}/statistics/tx_packets`])).stdout.trim());
    assert.ok(tx > 0, 'node1 sent through its VXLAN device');
  });

  test('network connect and disconnect of a running container on a third node: its endpoint appears and goes on the others', async () => {
    await n3.dockerOk(['run', '-d', '--name', 'charlie', 'busybox', 'sleep', '600']);
    await n3.dockerOk(['network', 'connect', 'ovl', 'charlie']);
    const macC = (await n3.dockerOk(['inspect', '--format', '{{.NetworkSettings.Networks.ovl.MacAddress}}', 'charlie'])).trim();
    assert.equal((await n3.dockerOk(['exec', 'charlie', 'cat', '/sys/class/net/eth1/mtu'])).trim(), '1450');
    // charlie's primary network is the default bridge, so its resolv.conf is the host's (as in Docker): by address here
    const ipA = (await n1.dockerOk(['inspect', '--format', '{{.NetworkSettings.Networks.ovl.IPAddress}}', 'alpha'])).trim();
    await waitFor(async () => (await n3.docker(['exec', 'charlie', 'ping', '-c1', '-W2', ipA])).code === 0, 20_000, 'charlie pings alpha')
      .catch(async (err: Error) => assert.fail(`${err.message}\n${await diag(n3, 'charlie')}\n${await diag(n1, 'alpha')}`));
    await n2.dockerOk(['exec', 'bravo', 'ping', '-c1', '-W2', 'charlie']);
    const vx = `vx-${ovl.Id.slice(0, 12)}`;
    assert.match((await n1.sh('bridge', ['fdb', 'show', 'dev', vx])).stdout, new RegExp(`${macC} dst ${n3.ip.replace(/\./g, '\\.')} self permanent`));
    await n3.dockerOk(['network', 'disconnect', 'ovl', 'charlie']);
    // the VXLAN entry (self, dst) goes; what the bridge itself learned ages out on its own
    await waitFor(async () => !(await n1.sh('bridge', ['fdb', 'show', 'dev', vx])).stdout.includes(`${macC} dst`), 15_000, 'node1 forgot where charlie is');
    assert.doesNotMatch((await n1.sh('ip', ['neigh', 'show', 'dev', vx])).stdout, new RegExp(macC));
    await waitFor(async () => (await n2.docker(['exec', 'bravo', 'nslookup', 'charlie'])).code !== 0, 15_000, 'charlie no longer resolves on node2');
    await n3.dockerOk(['rm', '-f', 'charlie']);
  });

  test('a node\'s berthd killed with -9 and restarted keeps its overlay: its container is reached again, both ways', async () => {
    const ipB = (await n2.dockerOk(['inspect', '--format', '{{.NetworkSettings.Networks.ovl.IPAddress}}', 'bravo'])).trim();
    n2.kill9();
    await n2.restart();
    assert.equal((await n2.dockerOk(['inspect', '--format', '{{.State.Running}}', 'bravo'])).trim(), 'true', await diag(n2, 'bravo'));
    await waitFor(async () => (await n1.docker(['exec', 'alpha', 'ping', '-c1', '-W2', ipB])).code === 0, 20_000, 'alpha pings bravo after node2 restarted');
    await waitFor(async () => (await n2.docker(['exec', 'bravo', 'ping', '-c1', '-W2', 'alpha'])).code === 0, 20_000, 'bravo pings alpha by name after the restart');
    // node1 restarting (the manager, its etcd adopted) keeps it too, and drops the entries of an endpoint that went meanwhile
    await n3.dockerOk(['run', '-d', '--network', 'ovl', '--name', 'echo', 'busybox', 'sleep', '600']);
    const macE = (await n3.dockerOk(['inspect', '--format', '{{.NetworkSettings.Networks.ovl.MacAddress}}', 'echo'])).trim();
    const ipE = (await n3.dockerOk(['inspect', '--format', '{{.NetworkSettings.Networks.ovl.IPAddress}}', 'echo'])).trim();
    const vx = `vx-${ovl.Id.slice(0, 12)}`;
    await waitFor(async () => (await n1.sh('bridge', ['fdb', 'show', 'dev', vx])).stdout.includes(`${macE} dst`), 15_000, 'node1 knows echo');
    n1.kill9();
    await n3.dockerOk(['rm', '-f', 'echo']);
    await n1.restart();
    assert.doesNotMatch((await n1.sh('bridge', ['fdb', 'show', 'dev', vx])).stdout, new RegExp(`${macE} dst`));
    assert.doesNotMatch((await n1.sh('ip', ['neigh', 'show', 'dev', vx])).stdout, new RegExp(`^${ipE.replace(/\./g, '\\.')} `, 'm'));
    await waitFor(async () => (await n2.docker(['exec', 'bravo', 'ping', '-c1', '-W2', 'alpha'])).code === 0, 30_000, 'bravo pings alpha after node1 restarted');
  });

  test('a container that died while its node\'s berthd was down has its address released at the next start', async () => {
    await n1.dockerOk(['network', 'create', '-d', 'overlay', '--attachable', 'ovs']);
    await waitFor(async () => (await n2.docker(['network', 'inspect', 'ovs'])).code === 0, 15_000, 'node2 knows ovs');
    await n2.dockerOk(['run', '-d', '--network', 'ovs', '--name', 'delta', 'busybox', 'sleep', '600']);
    const pid = Number((await n2.dockerOk(['inspect', '--format', '{{.State.Pid}}', 'delta'])).trim());
    assert.ok(pid > 1);
    n2.kill9();
    process.kill(pid, 'SIGKILL');
    await n2.restart();
    await waitFor(async () => (await n2.dockerOk(['inspect', '--format', '{{.State.Running}}', 'delta'])).trim() === 'false', 15_000, 'delta seen exited');
    // its lease and endpoint are gone from the cluster: the manager may remove the network
    await waitFor(async () => (await n1.docker(['network', 'rm', 'ovs'])).code === 0, 15_000, 'ovs removable')
      .catch(async (err: Error) => assert.fail(`${err.message}\n${(await n1.docker(['network', 'rm', 'ovs'])).stderr}\n${await diag(n2, 'delta')}`));
    assert.match(n2.daemon.logs, /overlay: releasing the address of a container that no longer runs/);
    await n2.dockerOk(['rm', 'delta']);
  });

  test('a network removed while a node was down is gone from it when it comes back (devices swept at start)', async () => {
    const id = (await n1.dockerOk(['network', 'create', '-d', 'overlay', 'gone'])).trim();
    await waitFor(async () => (await links(n3)).includes(`vx-${id.slice(0, 12)}`), 15_000, 'node3 has the device');
    n3.kill9();
    await n1.dockerOk(['network', 'rm', 'gone']);
    await n3.restart();
    await waitFor(async () => !(await links(n3)).some((l) => l.endsWith(id.slice(0, 12))), 15_000, 'node3 swept the devices of the removed network');
    assert.equal((await n3.dockerOk(['network', 'ls', '--filter', 'name=gone', '-q'])).trim(), '');
  });

  test('--internal: no route out; a normal overlay container reaches the LAN through its node', async () => {
    await n1.dockerOk(['network', 'create', '-d', 'overlay', '--attachable', '--internal', 'ovi']);
    await waitFor(async () => (await n2.docker(['network', 'inspect', 'ovi'])).code === 0, 15_000, 'node2 knows ovi');
    const routes = await n2.dockerOk(['run', '--rm', '--network', 'ovi', 'busybox', 'ip', 'route']);
    assert.doesNotMatch(routes, /default/);
    const out = await n2.docker(['run', '--rm', '--network', 'ovi', 'busybox', 'ping', '-c1', '-W1', n1.ip]);
    assert.notEqual(out.code, 0, 'an internal network has no way out');
    await n2.dockerOk(['exec', 'bravo', 'ping', '-c1', '-W2', n1.ip]);
    await n1.dockerOk(['network', 'rm', 'ovi']);
  });

  test('--opt encrypted is refused with a clear error', async () => {
    const r = await n1.docker(['network', 'create', '-d', 'overlay', '--opt', 'encrypted', 'enc']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot encrypt overlay traffic: this kernel has no IPsec \(ESP\/xfrm\) support/);
    assert.equal((await n1.docker(['network', 'inspect', 'enc'])).code, 1);
  });

  test('network rm is refused on a worker and while containers are attached, then removes it on every node', async () => {
    const worker = await n2.docker(['network', 'rm', 'ovl']);
    assert.notEqual(worker.code, 0);
    assert.match(worker.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state\./);
    const refused = await n1.docker(['network', 'rm', 'ovl']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, new RegExp(`rpc error: code = FailedPrecondition desc = network ${ovl.Id} is in use by task [0-9a-f]{25}`));
    await n1.dockerOk(['rm', '-f', 'alpha']);
    await n2.dockerOk(['rm', '-f', 'bravo']);
    await n1.dockerOk(['network', 'rm', 'ovl']);
    const short = ovl.Id.slice(0, 12);
    for (const n of [n1, n2, n3]) {
      // the swarm's ingress network stays
      await waitFor(async () => !(await links(n)).some((l) => l === `vx-${short}` || l === `ov-${short}`), 15_000, `${n.name}: overlay devices gone`);
      assert.equal((await n.docker(['network', 'ls', '--filter', 'driver=overlay', '--format', '{{.Name}}'])).stdout.trim(), 'ingress', n.name);
      assert.equal(await ruleCount(n, `ov-${short}`), 0, `${n.name}: no rule of the overlay bridge`);
      assert.deepEqual((await links(n)).filter((l) => l.startsWith('veth')), [], `${n.name}: no veth left`);
    }
  });

  test('a worker leaving the swarm takes every overlay network off its host; the others keep it', async () => {
    const id = (await n1.dockerOk(['network', 'create', '-d', 'overlay', 'stay'])).trim();
    await waitFor(async () => (await links(n3)).includes(`vx-${id.slice(0, 12)}`), 15_000, 'node3 has the device');
    await n3.dockerOk(['swarm', 'leave']);
    await waitFor(async () => !(await links(n3)).some((l) => l.startsWith('vx-') || l.startsWith('ov-')), 15_000, 'node3 has no overlay device');
    assert.equal((await n3.dockerOk(['network', 'ls', '--filter', 'driver=overlay', '-q'])).trim(), '');
    assert.equal(await ruleCount(n3, 'ov-'), 0);
    assert.ok((await links(n2)).includes(`vx-${id.slice(0, 12)}`), 'node2 still has it');
    // its peer entries and its ingress address went with it: the others no longer list it
    const peerIps = async (net: string) => ((await inspect(n2, net)).Peers ?? []).map((p) => p.IP);
    await waitFor(async () => !(await peerIps('stay')).includes(n3.ip) && !(await peerIps('ingress')).includes(n3.ip), 15_000, 'node3 gone from the peers');
    assert.ok((await peerIps('stay')).includes(n2.ip));
    await n1.dockerOk(['network', 'rm', 'stay']);
    // the ingress network's devices stay while node2 is in the swarm
    await waitFor(async () => !(await links(n2)).some((l) => l === `vx-${id.slice(0, 12)}` || l === `ov-${id.slice(0, 12)}`), 15_000, 'node2: devices gone');
  });
});
