import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../../../lib/ipv4.js';
import { pluginInput, runtimeConfig } from '../cni-config.js';
import { auxAddresses, planFromConfig } from '../ipam.js';
import { hostLocalRanges } from './host-local.js';
import { dummyParentName, macvlanConfig, macvlanConfList, parseVlanParent } from './macvlan.js';

const ip = (s: string) => parseIp(s)!;
const ID = 'a1b2c3d4e5f6'.padEnd(64, '0');
const OTHER = 'ffeeddccbbaa'.padEnd(64, '1');

test('macvlan options: mode defaults to bridge; a bad mode, lo, or passthru on a shared parent are refused with libnetwork words', () => {
  assert.deepEqual(macvlanConfig(ID, { parent: 'eth0' }, []), { parent: 'eth0', mode: 'bridge' });
  assert.deepEqual(macvlanConfig(ID, { parent: 'eth0', macvlan_mode: 'passthru' }, []), { parent: 'eth0', mode: 'passthru' });
  assert.throws(() => macvlanConfig(ID, { parent: 'eth0', macvlan_mode: 'l3' }, []), /requested macvlan mode 'l3' is not valid, 'bridge' mode is the macvlan driver default/);
  assert.throws(() => macvlanConfig(ID, { parent: 'lo' }, []), /loopback interface is not a valid macvlan parent link/);
  const others = [{ id: OTHER, macvlan: { parent: 'eth0', mode: 'bridge' } }, { id: ID.replace('a', 'b') }];
  // networks share a parent, except with passthru on either side
  assert.deepEqual(macvlanConfig(ID, { parent: 'eth0', macvlan_mode: 'private' }, others), { parent: 'eth0', mode: 'private' });
  assert.throws(() => macvlanConfig(ID, { parent: 'eth0', macvlan_mode: 'passthru' }, others),
    new RegExp(`^Conflict: cannot use mode passthru, macvlan network ${OTHER} is already using parent interface eth0$`));
  const passthru = [{ id: OTHER, macvlan: { parent: 'eth0', mode: 'passthru' } }];
  assert.throws(() => macvlanConfig(ID, { parent: 'eth0' }, passthru), new RegExp(`macvlan network ${OTHER} is already using parent interface eth0 in mode passthru`));
  assert.deepEqual(macvlanConfig(ID, { parent: 'eth1' }, passthru).parent, 'eth1');
  // a VLAN link another network made is removed by the last network on it
  assert.equal(macvlanConfig(ID, { parent: 'eth0.10' }, [{ id: OTHER, macvlan: { parent: 'eth0.10', mode: 'bridge', createdParent: 'vlan' } }]).createdParent, 'vlan');
  // no parent: libnetwork's dummy, named after the network
  assert.equal(macvlanConfig(ID, {}, others).parent, 'dm-a1b2c3d4e5f6');
  assert.equal(dummyParentName(ID), 'dm-a1b2c3d4e5f6');
});

test('a parent that does not exist must be name.vlan_id, with a vlan id of 1-4094', () => {
  assert.deepEqual(parseVlanParent('eth0.10'), { link: 'eth0', vid: 10 });
  assert.throws(() => parseVlanParent('nosuch0'), /invalid subinterface vlan name nosuch0, example formatting is eth0\.10/);
  assert.throws(() => parseVlanParent('eth0.1.2'), /required interface name format is: name\.vlan_id/);
  assert.throws(() => parseVlanParent('eth0.x'), /unable to parse a valid vlan id from: x/);
  assert.throws(() => parseVlanParent('eth0.4095'), /vlan id must be between 1-4094, received: 4095/);
});

test('host-local ranges: the dynamic range is cut around aux addresses; an --ip outside it gets a range of its own', () => {
  const plan = planFromConfig({ Subnet: '10.5.0.0/24', Gateway: '10.5.0.129', IPRange: '10.5.0.128/28' }, []);
  const r = hostLocalRanges(plan, [ip('10.5.0.130'), ip('10.5.0.140'), ip('10.5.0.7')]);
  assert.deepEqual(r.map((x) => [x.rangeStart, x.rangeEnd]), [['10.5.0.129', '10.5.0.129'], ['10.5.0.131', '10.5.0.139'], ['10.5.0.141', '10.5.0.142']]);
  assert.ok(r.every((x) => x.subnet === '10.5.0.0/24' && x.gateway === '10.5.0.129'), 'host-local skips the gateway of each range');
  const withIp = hostLocalRanges(plan, [], ip('10.5.0.200'));
  assert.deepEqual(withIp.at(-1), { subnet: '10.5.0.0/24', gateway: '10.5.0.129', rangeStart: '10.5.0.200', rangeEnd: '10.5.0.200' });
  assert.equal(hostLocalRanges(plan, [], ip('10.5.0.133')).length, 1, 'an --ip inside the range needs nothing more');
  const whole = hostLocalRanges(planFromConfig({ Subnet: '10.6.0.0/24' }, []), []);
  assert.deepEqual(whole.map((x) => [x.rangeStart, x.rangeEnd]), [['10.6.0.1', '10.6.0.254']]);
});

test('aux addresses must be IPv4 addresses of the subnet', () => {
  const plan = planFromConfig({ Subnet: '10.5.0.0/24' }, []);
  assert.deepEqual(auxAddresses({ r: '10.5.0.2' }, plan), [ip('10.5.0.2')]);
  assert.throws(() => auxAddresses({ r: '10.6.0.2' }, plan), /auxiliary address: \(r:10\.6\.0\.2\) must belong to the master pool: 10\.5\.0\.0\/24/);
  assert.throws(() => auxAddresses({ r: 'x' }, plan), /failed to parse aux address for r/);
});

test('the CNI list of a macvlan network: master and mode, host-local IPAM; internal networks get no default route', () => {
  const plan = planFromConfig({ Subnet: '10.5.0.0/24', Gateway: '10.5.0.1' }, []);
  const input = { name: 'berth-a1b2c3d4e5f6', state: { parent: 'eth0', mode: 'private' }, plan, aux: [ip('10.5.0.2')], ipamDir: '/d', internal: false };
  const list = macvlanConfList(input);
  assert.equal(list.plugins.length, 1, 'no portmap: macvlan containers publish no host ports');
  const p = list.plugins[0]!;
  assert.equal(p.type, 'macvlan');
  assert.equal(p.master, 'eth0');
  assert.equal(p.mode, 'private');
  const ipam = p.ipam as { ranges: { rangeStart: string }[][]; routes: unknown[]; dataDir: string };
  assert.deepEqual(ipam.routes, [{ dst: '0.0.0.0/0' }]);
  assert.equal(ipam.ranges[0]![0]!.rangeStart, '10.5.0.1');
  assert.equal(ipam.ranges[0]![1]!.rangeStart, '10.5.0.3');
  assert.deepEqual((macvlanConfList({ ...input, internal: true }).plugins[0]!.ipam as { routes: unknown[] }).routes, []);
  // --ip reaches host-local through the macvlan plugin's stdin, as through the bridge plugin's
  const withIp = macvlanConfList({ ...input, staticIp: ip('10.5.0.9') });
  assert.deepEqual(pluginInput(withIp, withIp.plugins[0]!, runtimeConfig([], '10.5.0.9')).runtimeConfig, { ips: ['10.5.0.9'] });
});
