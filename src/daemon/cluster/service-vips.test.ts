import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from './memory-store.js';
import { createNetwork, removeNetwork, allocateAddress } from './network-records.js';
import { allocateVip, planVips, releaseServiceVips, serviceVips } from './service-vips.js';

const POOL = { pools: ['10.0.0.0/8'], subnetSize: 24 };
const req = (name: string) => ({ name, internal: false, attachable: true, options: {}, labels: {} });
const inUse = (id: string) => new Error(`in use by ${id}`);

describe('service VIPs', () => {
  test('planVips: one per network in vip mode, with the service name and aliases; none in dnsrr', async () => {
    const kv = new MemoryStore();
    const a = await createNetwork(kv, 'neta', req('a'), POOL);
    const b = await createNetwork(kv, 'netb', req('b'), POOL);
    const spec = { Name: 'web', TaskTemplate: { Networks: [{ Target: 'neta' }, { Target: 'b', Aliases: ['www'] }, { Target: 'nope' }] } };
    const plan = planVips(spec, [a, b], new Map());
    assert.deepEqual([...plan.want], [['neta', { names: ['web'] }], ['netb', { names: ['web', 'www'] }]]);
    assert.deepEqual(plan.drop, []);
    const cur = new Map([['neta', { serviceId: 's', ip: '10.0.0.2', prefix: 24, names: ['web'] }]]);
    assert.deepEqual([...planVips(spec, [a, b], cur).want.keys()], ['netb'], 'an unchanged VIP is left alone');
    assert.deepEqual(planVips({ ...spec, EndpointSpec: { Mode: 'dnsrr' } }, [a, b], cur), { want: new Map(), drop: ['neta'] });
    assert.deepEqual(planVips({ Name: 'web', TaskTemplate: { Networks: [{ Target: 'b' }] } }, [a, b], cur).drop, ['neta']);
    const ports = [{ protocol: 'tcp' as const, published: 8080, target: 80 }];
    const withIngress = planVips({ ...spec, EndpointSpec: { Mode: 'dnsrr' } }, [a, b], cur, { netId: 'ing', ports });
    assert.deepEqual([...withIngress.want], [['ing', { names: [], ports }]], 'published ports: an ingress VIP, in dnsrr mode too');
    await kv.close();
  });

  test('a VIP is the network\'s next free address, never given to a container, freed with the service', async () => {
    const kv = new MemoryStore();
    await createNetwork(kv, 'n', req('n'), POOL);
    const v = await allocateVip(kv, 'n', 'svc1', ['web']);
    assert.deepEqual(v, { serviceId: 'svc1', ip: '10.0.0.2', prefix: 24, names: ['web'] });
    assert.equal((await allocateVip(kv, 'n', 'svc1', ['web', 'w'])).ip, '10.0.0.2', 'a rename keeps the address');
    const c = await allocateAddress(kv, 'n', { containerId: 'c1', nodeId: 'node1' });
    assert.equal(c.ip, '10.0.0.3');
    await assert.rejects(removeNetwork(kv, 'n', inUse), /in use by svc1/);
    await releaseServiceVips(kv, 'svc1');
    assert.equal((await serviceVips(kv, 'svc1')).size, 0);
    assert.equal((await allocateAddress(kv, 'n', { containerId: 'c2', nodeId: 'node1' })).ip, '10.0.0.2', 'the address is free again');
    await kv.close();
  });

  test('concurrent services on one network get distinct VIPs', async () => {
    const kv = new MemoryStore();
    await createNetwork(kv, 'n', req('n'), POOL);
    const made = await Promise.all(Array.from({ length: 5 }, (_, i) => allocateVip(kv, 'n', `s${i}`, [`svc${i}`])));
    assert.equal(new Set(made.map((v) => v.ip)).size, 5);
    await kv.close();
  });
});
