import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Forbidden } from '../../errdefs/index.js';
import { parseCidr } from '../../lib/ipv4.js';
import { planFromConfig } from '../networks/ipam.js';
import { MemoryStore } from './memory-store.js';
import {
  allocateAddress, createNetwork, freeSubnet, leasedAddresses, listNetworks, parseOverlayKey, peerKey, putEndpoint, putPeer, releaseAddress, releaseNodeNetworking, removeNetwork, VNI_FIRST,
} from './network-records.js';

const POOL = { pools: ['10.0.0.0/8'], subnetSize: 24 };
const req = (name: string) => ({ name, internal: false, attachable: true, options: {}, labels: {} });

describe('overlay network records', () => {
  test('free subnets follow Docker\'s default pool: 10.0.0.0/24, 10.0.1.0/24, ...', () => {
    assert.deepEqual(freeSubnet(POOL, []), parseCidr('10.0.0.0/24')!.cidr);
    assert.deepEqual(freeSubnet(POOL, [parseCidr('10.0.0.0/24')!.cidr]), parseCidr('10.0.1.0/24')!.cidr);
  });

  test('concurrent creates get distinct names, VNIs and subnets', async () => {
    const kv = new MemoryStore();
    const made = await Promise.all(Array.from({ length: 6 }, (_, i) => createNetwork(kv, `id${i}`, req(`net${i}`), POOL)));
    assert.equal(new Set(made.map((n) => n.vni)).size, 6);
    assert.equal(new Set(made.map((n) => n.subnet)).size, 6);
    assert.deepEqual(made.map((n) => n.vni).sort(), [0, 1, 2, 3, 4, 5].map((i) => VNI_FIRST + i));
    assert.equal((await listNetworks(kv)).length, 6);
    const dup = await Promise.allSettled([createNetwork(kv, 'x1', req('same'), POOL), createNetwork(kv, 'x2', req('same'), POOL)]);
    assert.equal(dup.filter((r) => r.status === 'fulfilled').length, 1);
    assert.match(String((dup.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason), /network with name same already exists/);
    await kv.close();
  });

  test('a user subnet overlapping another overlay network is refused', async () => {
    const kv = new MemoryStore();
    await createNetwork(kv, 'a', { ...req('a'), plan: (t) => planFromConfig({ Subnet: '10.9.0.0/16' }, t) }, POOL);
    await assert.rejects(createNetwork(kv, 'b', { ...req('b'), plan: (t) => planFromConfig({ Subnet: '10.9.3.0/24' }, t) }, POOL),
      (e: Error) => e instanceof Forbidden && /Pool overlaps with other one on this address space/.test(e.message));
    await kv.close();
  });

  test('concurrent address allocations never share an address; release frees it; rm is refused while used', async () => {
    const kv = new MemoryStore();
    const net = await createNetwork(kv, 'n', req('n'), POOL);
    const addrs = await Promise.all(Array.from({ length: 8 }, (_, i) => allocateAddress(kv, net.id, { containerId: `c${i}`, nodeId: `node${i % 3}` })));
    assert.equal(new Set(addrs.map((a) => a.ip)).size, 8);
    assert.ok(addrs.every((a) => a.ip !== '10.0.0.1' && a.ip !== '10.0.0.0' && a.prefix === 24 && a.gateway === '10.0.0.1'));
    await putEndpoint(kv, net.id, { containerId: 'c0', name: 'a', dnsNames: ['a'], ip: addrs[0]!.ip, mac: '02:42:0a:00:00:02', nodeId: 'node0', vtep: '192.0.2.1' });
    await assert.rejects(removeNetwork(kv, net.id, (c) => new Forbidden('in_use', `in use by ${c}`)), /in use by c0/);
    for (const [i, a] of addrs.entries()) await releaseAddress(kv, net.id, `c${i}`, a.ip);
    const again = await allocateAddress(kv, net.id, { containerId: 'c9', nodeId: 'node0' });
    assert.equal(again.ip, '10.0.0.2', 'the lowest freed address comes back');
    await releaseAddress(kv, net.id, 'c9', again.ip);
    await removeNetwork(kv, net.id, () => new Error('unexpected'));
    assert.equal((await kv.list('/berth/swarm/overlay/')).items.filter((i) => !i.key.endsWith('/alloc')).length, 0);
    await assert.rejects(allocateAddress(kv, net.id, { containerId: 'c1', nodeId: 'n' }), /not found/);
    await kv.close();
  });

  test('keys parse back into kind, network and member', () => {
    assert.deepEqual(parseOverlayKey('/berth/swarm/overlay/endpoints/n1/c1'), { kind: 'endpoints', net: 'n1', sub: 'c1' });
    assert.deepEqual(parseOverlayKey('/berth/swarm/overlay/networks/n1'), { kind: 'networks', net: 'n1' });
    assert.equal(parseOverlayKey('/berth/swarm/overlay/ipam/n1/10.0.0.2'), undefined);
  });

  test('a node that leaves or is removed: its leases, endpoints and peer entries go; another node\'s and the VIP-free ones stay', async () => {
    const kv = new MemoryStore();
    const net = await createNetwork(kv, 'n', req('ovl'), POOL);
    const a = await allocateAddress(kv, net.id, { containerId: 'c-gone', nodeId: 'gone' });
    const b = await allocateAddress(kv, net.id, { containerId: 'c-stays', nodeId: 'stays' });
    await allocateAddress(kv, net.id, { containerId: 'ingress-gone', nodeId: 'gone' });
    for (const [c, ip, node] of [['c-gone', a.ip, 'gone'], ['c-stays', b.ip, 'stays']] as const) {
      await putEndpoint(kv, net.id, { containerId: c, name: c, dnsNames: [], ip, mac: '02:42:00:00:00:01', nodeId: node, vtep: '192.0.2.1' });
    }
    await putPeer(kv, net.id, 'gone', { name: 'gone', ip: '192.0.2.1' });
    await putPeer(kv, net.id, 'stays', { name: 'stays', ip: '192.0.2.2' });
    assert.equal(await releaseNodeNetworking(kv, 'gone'), 4);
    assert.deepEqual([...await leasedAddresses(kv, net.id)].length, 1);
    assert.equal(await kv.get(peerKey(net.id, 'gone')), undefined);
    assert.ok(await kv.get(peerKey(net.id, 'stays')));
    assert.equal((await kv.list('/berth/swarm/overlay/endpoints/')).items.length, 1);
    assert.equal(await releaseNodeNetworking(kv, 'gone'), 0);
    await kv.close();
  });
});
