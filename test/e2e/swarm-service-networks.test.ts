/**
 * Service tasks on overlay networks, with the real docker CLI on a 2-node
 * cluster (n1 the manager, n2 a worker, busybox on each): a service with
 * one task on each node on a non-attachable overlay network; the tasks
 * reach each other by IP; `tasks.<name>` and the service name resolve to
 * every task's IP, the service name to its VIP (dnsrr: to the task IPs); service rm frees the
 * endpoints. The etcd member started here is killed by pid in `after`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

describe('service tasks on overlay networks', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  before(async () => {
    c = await TestCluster.start(2, { busybox: true });
    [n1, n2] = c.nodes as [TestNode, TestNode];
  });
  after(() => c?.destroy());

  /** The service's tasks as (node, container name, overlay IP). */
  const taskIps = async (service: string, net: string) => {
    const out: { node: TestNode; name: string; ip: string }[] = [];
    for (const n of [n1, n2]) {
      for (const name of await n.serviceContainers(service)) {
        const ip = (await n.dockerOk(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name])).trim();
        out.push({ node: n, name, ip });
      }
    }
    return out;
  };
  /** The A records a name has in a container, as busybox nslookup prints them. */
  const resolve = async (n: TestNode, container: string, name: string) => {
    const r = await n.docker(['exec', container, 'nslookup', name]);
    return [...r.stdout.split(/^Name:/m).slice(1).join('\n').matchAll(/Address:\s*(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
  };

  test('a manager and a worker; a non-attachable overlay network', async () => {
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    await n2.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    await n1.dockerOk(['network', 'create', '-d', 'overlay', '--subnet', '10.77.0.0/24', 'ovl']);
  });

  test('service create --network: one task on each node, on the overlay network, reaching the other by IP', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'web', '--replicas', '2', '--network', 'ovl', 'busybox', 'sleep', '3600']);
    await waitFor(async () => (await n1.serviceContainers('web')).length === 1 && (await n2.serviceContainers('web')).length === 1, 60_000, 'web on n1 and n2');
    const t = await taskIps('web', 'ovl');
    assert.equal(t.length, 2);
    for (const x of t) assert.match(x.ip, /^10\.77\.0\.\d+$/);
    const [a, b] = t as [typeof t[0], typeof t[0]];
    assert.equal((await a.node.docker(['exec', a.name, 'ping', '-c', '1', '-W', '3', b.ip])).code, 0, `${a.name} pings ${b.ip}`);
    assert.equal((await b.node.docker(['exec', b.name, 'ping', '-c', '1', '-W', '3', a.ip])).code, 0, `${b.name} pings ${a.ip}`);
  });

  test('tasks.<service> resolves to every task\'s IP, the service name to its VIP', async () => {
    const t = await taskIps('web', 'ovl');
    const ips = t.map((x) => x.ip).sort();
    const vip = (await n1.dockerOk(['service', 'inspect', '--format', '{{(index .Endpoint.VirtualIPs 0).Addr}}', 'web'])).trim().split('/')[0]!;
    for (const x of t) {
      await waitFor(async () => (await resolve(x.node, x.name, 'tasks.web')).join() === ips.join(), 20_000, `tasks.web in ${x.name}`);
      assert.deepEqual(await resolve(x.node, x.name, 'web'), [vip]);
    }
  });

  test('--endpoint-mode dnsrr: the name resolves to the tasks of that service only', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'rr', '--replicas', '2', '--endpoint-mode', 'dnsrr', '--network', 'ovl', 'busybox', 'sleep', '3600']);
    await waitFor(async () => (await taskIps('rr', 'ovl')).length === 2, 60_000, 'rr running');
    const ips = (await taskIps('rr', 'ovl')).map((x) => x.ip).sort();
    const [w] = await taskIps('web', 'ovl');
    await waitFor(async () => (await resolve(w!.node, w!.name, 'rr')).join() === ips.join(), 20_000, 'rr from a web task');
  });

  test('service rm frees the tasks\' endpoints: the network can be removed', async () => {
    await n1.dockerOk(['service', 'rm', 'web', 'rr']);
    await waitFor(async () => (await n1.serviceContainers('web')).length + (await n2.serviceContainers('web')).length + (await n1.serviceContainers('rr')).length + (await n2.serviceContainers('rr')).length === 0, 60_000, 'no task left');
    await waitFor(async () => (await n1.docker(['network', 'rm', 'ovl'])).code === 0, 30_000, 'network rm ovl');
  });
});
