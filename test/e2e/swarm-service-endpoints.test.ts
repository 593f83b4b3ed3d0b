/**
 * Service endpoints with the real docker CLI on a 3-node cluster (n1 the
 * manager, n2 and n3 workers, busybox on each): the default endpoint mode
 * `vip` gives each service a virtual IP on its overlay networks that
 * load-balances (iptables, lb-rules.ts) over the running tasks; published
 * ports in mode host are bound on the node running the task, one task per
 * node and port; published ports in mode ingress (the routing mesh) answer
 * on every node, also one without a task. One cluster
 * for the whole file; the responder is busybox `nc -ll -p 80 -e hostname`,
 * so each connection answers the hostname of the task it reached.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

const RESPONDER = ['--stop-grace-period', '1s', 'busybox', 'nc', '-ll', '-p', '80', '-e', 'hostname'];

describe('service endpoints: VIPs', () => {
  let c: TestCluster;
  let n1: TestNode, n2: TestNode, n3: TestNode;
  const running = async (service: string): Promise<number> => {
    let count = 0;
    for (const n of c.nodes) count += (await n.serviceContainers(service)).length;
    return count;
  };
  const resolve = async (n: TestNode, container: string, name: string) => {
    const r = await n.docker(['exec', container, 'nslookup', name]);
    return [...r.stdout.split(/^Name:/m).slice(1).join('\n').matchAll(/Address:\s*(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
  };
  /** The hostnames `count` connections to host:80 answered, from a container. */
  const hits = async (n: TestNode, container: string, host: string, count: number): Promise<string[]> => {
    const r = await n.docker(['exec', container, 'sh', '-c', `for i in $(seq ${count}); do nc -w 3 ${host} 80 </dev/null; done`]);
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  };

  before(async () => {
    c = await TestCluster.start(3, { busybox: true });
    [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    await Promise.all([n2, n3].map((n) => n.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`])));
    await n1.dockerOk(['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.78.0.0/24', 'lbnet']);
  });
  after(() => c?.destroy());

  let vip = '';

  test('service create: inspect shows Endpoint.VirtualIPs, one on its overlay network', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'echo', '--replicas', '3', '--network', 'name=lbnet,alias=hello', ...RESPONDER]);
    const netId = (await n1.dockerOk(['network', 'inspect', '--format', '{{.Id}}', 'lbnet'])).trim();
    const ep = JSON.parse(await n1.dockerOk(['service', 'inspect', '--format', '{{json .Endpoint}}', 'echo'])) as { Spec: { Mode: string }; VirtualIPs: { NetworkID: string; Addr: string }[] };
    assert.equal(ep.Spec.Mode, 'vip');
    assert.equal(ep.VirtualIPs.length, 1);
    assert.equal(ep.VirtualIPs[0]!.NetworkID, netId);
    assert.match(ep.VirtualIPs[0]!.Addr, /^10\.78\.0\.\d+\/24$/);
    vip = ep.VirtualIPs[0]!.Addr.split('/')[0]!;
    await waitFor(async () => (await running('echo')) === 3, 90_000, 'three echo tasks running');
  });

  test('the service name and its alias resolve to the VIP, tasks.<name> to the three task IPs', async () => {
    await n1.dockerOk(['run', '-d', '--name', 'client1', '--network', 'lbnet', 'busybox', 'sleep', '600']);
    await waitFor(async () => (await resolve(n1, 'client1', 'tasks.echo')).length === 3, 30_000, 'tasks.echo has three addresses');
    const tasks = await resolve(n1, 'client1', 'tasks.echo');
    assert.ok(!tasks.includes(vip));
    assert.deepEqual(await resolve(n1, 'client1', 'echo'), [vip]);
    assert.deepEqual(await resolve(n1, 'client1', 'hello'), [vip]);
  });

  test('connections to the VIP are spread over the tasks, from containers on any node', async () => {
    await n3.dockerOk(['run', '-d', '--name', 'client3', '--network', 'lbnet', 'busybox', 'sleep', '600']);
    for (const [n, client] of [[n1, 'client1'], [n3, 'client3']] as const) {
      const got = await hits(n, client, 'echo', 16);
      assert.equal(got.length, 16, `${client}: every connection answered: ${got.join(',')}`);
      assert.ok(new Set(got).size > 1, `${client}: more than one task answered: ${got.join(',')}`);
    }
  });

  test('after scale to 1, every connection reaches the one task left', async () => {
    await n1.dockerOk(['service', 'scale', '-d', 'echo=1']);
    await waitFor(async () => (await running('echo')) === 1, 60_000, 'one echo task');
    await waitFor(async () => (await resolve(n1, 'client1', 'tasks.echo')).length === 1, 30_000, 'tasks.echo has one address');
    await waitFor(async () => new Set(await hits(n1, 'client1', vip, 3)).size === 1, 15_000, 'rules down to one task');
    const got = await hits(n1, 'client1', vip, 8);
    assert.equal(got.length, 8, got.join(','));
    assert.equal(new Set(got).size, 1, got.join(','));
  });

  test('--endpoint-mode dnsrr: no VirtualIPs, the name resolves to the task IPs', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'rr', '--replicas', '2', '--endpoint-mode', 'dnsrr', '--network', 'lbnet', ...RESPONDER]);
    assert.equal((await n1.dockerOk(['service', 'inspect', '--format', '{{json .Endpoint.VirtualIPs}}', 'rr'])).trim(), 'null');
    await waitFor(async () => (await resolve(n1, 'client1', 'rr')).length === 2, 60_000, 'rr resolves to two tasks');
  });

  test('a network a service uses cannot be removed; service rm frees the VIP and then it can', async () => {
    const r = await n1.docker(['network', 'rm', 'lbnet']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is in use by (service|task)/);
    await n1.dockerOk(['rm', '-f', 'client1']);
    await n3.dockerOk(['rm', '-f', 'client3']);
    await n1.dockerOk(['service', 'rm', 'echo', 'rr']);
    await waitFor(async () => (await running('echo')) + (await running('rr')) === 0, 60_000, 'no task left');
    await waitFor(async () => (await n1.docker(['network', 'rm', 'lbnet'])).code === 0, 30_000, 'network rm lbnet');
  });

  test('--publish mode=host: the port is bound on the task\'s node; PortStatus and Endpoint.Ports show it', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'hostp', '--publish', 'mode=host,published=8080,target=80', ...RESPONDER]);
    await waitFor(async () => (await running('hostp')) === 1, 60_000, 'hostp running');
    const ports = JSON.parse(await n1.dockerOk(['service', 'inspect', '--format', '{{json .Endpoint.Ports}}', 'hostp']));
    assert.deepEqual(ports, [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }]);
    assert.equal((await n1.dockerOk(['service', 'ps', '--format', '{{.Ports}}', 'hostp'])).trim(), '*:8080->80/tcp');
    let where: TestNode | undefined, name = '';
    for (const n of c.nodes) {
      const out = (await n.dockerOk(['ps', '--filter', 'label=com.docker.swarm.service.name=hostp', '--format', '{{.Names}}'])).trim();
      if (out) [where, name] = [n, out];
    }
    const host = (await where!.dockerOk(['inspect', '--format', '{{.Config.Hostname}}', name])).trim();
    const other = c.nodes.find((n) => n !== where)!;
    await waitFor(async () => (await other.sh('busybox', ['nc', '-w', '3', where!.ip, '8080'], { input: '' })).stdout.trim() === host, 15_000, `${where!.ip}:8080 answers ${host}`);
    assert.equal((await where!.sh('busybox', ['nc', '-w', '2', other.ip, '8080'], { input: '' })).stdout.trim(), '', 'a node without the task does not answer');
  });

  test('one task per node and host port: a fourth task on three nodes stays pending, host-mode port already in use', async () => {
    await n1.dockerOk(['service', 'scale', '-d', 'hostp=4']);
    await waitFor(async () => (await running('hostp')) === 3, 60_000, 'three hostp tasks, one per node');
    await waitFor(async () => {
      const out = await n1.dockerOk(['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}|{{.Error}}', '--no-trunc', 'hostp']);
      return out.includes('Pending') && out.includes('no suitable node (host-mode port already in use on 3 nodes)');
    }, 30_000, 'the fourth task pending with the host-port reason');
    for (const n of c.nodes) assert.equal((await n.dockerOk(['ps', '--filter', 'label=com.docker.swarm.service.name=hostp', '-q'])).trim().split('\n').length, 1, n.name);
    await n1.dockerOk(['service', 'rm', 'hostp']);
    await waitFor(async () => (await running('hostp')) === 0, 60_000, 'hostp gone');
    await waitFor(async () => (await n2.sh('busybox', ['nc', '-w', '2', n1.ip, '8080'], { input: '' })).stdout.trim() === '', 15_000, 'port 8080 closed on n1');
  });

  test('the swarm has Docker\'s ingress network: 10.0.0.0/24, Ingress true', async () => {
    const ing = JSON.parse(await n2.dockerOk(['network', 'inspect', '--format', '{{json .}}', 'ingress'])) as { Ingress: boolean; Driver: string; Scope: string; IPAM: { Config: { Subnet: string }[] } };
    assert.deepEqual([ing.Ingress, ing.Driver, ing.Scope, ing.IPAM.Config[0]!.Subnet], [true, 'overlay', 'swarm', '10.0.0.0/24']);
  });

  test('--publish 8080:80 (routing mesh): every node answers on 8080, also one without a task, spread over the tasks', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'mesh', '--replicas', '2', '--publish', 'published=8080,target=80', ...RESPONDER]);
    const ingressId = (await n1.dockerOk(['network', 'inspect', '--format', '{{.Id}}', 'ingress'])).trim();
    const ep = JSON.parse(await n1.dockerOk(['service', 'inspect', '--format', '{{json .Endpoint}}', 'mesh'])) as { Ports: unknown[]; VirtualIPs: { NetworkID: string; Addr: string }[] };
    assert.deepEqual(ep.Ports, [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }]);
    assert.deepEqual(ep.VirtualIPs.map((v) => v.NetworkID), [ingressId]);
    assert.match(ep.VirtualIPs[0]!.Addr, /^10\.0\.0\.\d+\/24$/);
    await waitFor(async () => (await running('mesh')) === 2, 60_000, 'two mesh tasks');
    const hosts = new Set<string>();
    for (const n of c.nodes) {
      for (const name of (await n.dockerOk(['ps', '--filter', 'label=com.docker.swarm.service.name=mesh', '--format', '{{.Names}}'])).trim().split('\n').filter(Boolean)) {
        hosts.add((await n.dockerOk(['inspect', '--format', '{{.Config.Hostname}}', name])).trim());
      }
    }
    const seen = new Set<string>();
    for (const [from, to] of [[n2, n1], [n3, n2], [n1, n3]] as const) {
      await waitFor(async () => hosts.has((await from.sh('busybox', ['nc', '-w', '3', to.ip, '8080'], { input: '' })).stdout.trim()), 20_000, `${to.name} answers on 8080`);
      for (let i = 0; i < 6; i++) {
        const got = (await from.sh('busybox', ['nc', '-w', '3', to.ip, '8080'], { input: '' })).stdout.trim();
        assert.ok(hosts.has(got), `${to.name}:8080 answered ${JSON.stringify(got)}`);
        seen.add(got);
      }
    }
    assert.equal(seen.size, 2, 'both tasks answered');
  });

  test('a published port left out is assigned from 30000; one another service holds is refused with dockerd\'s words', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'auto', '--publish', 'target=80', ...RESPONDER]);
    assert.equal((await n1.dockerOk(['service', 'inspect', '--format', '{{(index .Endpoint.Ports 0).PublishedPort}}', 'auto'])).trim(), '30000');
    const meshId = (await n1.dockerOk(['service', 'inspect', '--format', '{{.ID}}', 'mesh'])).trim();
    const r = await n1.docker(['service', 'create', '-d', '--name', 'clash', '--publish', '8080:80', ...RESPONDER]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`port '8080' is already in use by service 'mesh' \\(${meshId}\\) as an ingress port`));
  });

  test('service rm closes the port on every node; swarm leave takes the mesh\'s rules off the node', async () => {
    await n1.dockerOk(['service', 'rm', 'mesh', 'auto']);
    await waitFor(async () => (await running('mesh')) + (await running('auto')) === 0, 60_000, 'no mesh task left');
    for (const n of c.nodes) {
      await waitFor(async () => !(await n.sh('iptables-save', ['-t', 'nat'])).stdout.includes('--dport 8080'), 15_000, `${n.name}: no rule for 8080`);
    }
    await n3.dockerOk(['swarm', 'leave']);
    await waitFor(async () => !(await n3.sh('iptables-save', [])).stdout.includes('BERTH-INGRESS'), 15_000, 'node3: no ingress chain left');
    await waitFor(async () => !/\b(ov|vx)-/.test((await n3.sh('ip', ['-o', 'link'])).stdout), 15_000, 'node3: no overlay device left');
    assert.doesNotMatch((await n3.sh('ip', ['-o', 'addr'])).stdout, /\b10\.0\.0\./, 'node3: no ingress address left');
  });
});
