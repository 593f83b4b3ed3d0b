import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../../../lib/ipv4.js';
import { checkJoinAnswer, checkMac, createNetworkOptions, hostLocalOnly, ipv4Data, joinCommands } from './remote.js';
import { withStaticAddress } from '../plugin-endpoints.js';
import { bridgeConfList } from '../cni-config.js';
import type { AddressPlan } from '../ipam.js';

const plan: AddressPlan = { subnet: parseCidr('10.9.0.0/24')!.cidr, gateway: parseCidr('10.9.0.1/32')!.ip, range: parseCidr('10.9.0.0/24')!.cidr, userConfigured: true };

test('CreateNetwork gets IPv4Data with the gateway and aux addresses in CIDR form, and -o options under com.docker.network.generic', () => {
  assert.deepEqual(ipv4Data('LocalDefault', plan, { router: '10.9.0.2' }), {
    AddressSpace: 'LocalDefault', Pool: '10.9.0.0/24', Gateway: '10.9.0.1/24', AuxAddresses: { router: '10.9.0.2/24' },
  });
  assert.deepEqual(ipv4Data('s', plan, {}), { AddressSpace: 's', Pool: '10.9.0.0/24', Gateway: '10.9.0.1/24' });
  assert.deepEqual(createNetworkOptions({ a: 'b' }, true), {
    'com.docker.network.enable_ipv4': true, 'com.docker.network.enable_ipv6': false, 'com.docker.network.generic': { a: 'b' }, 'com.docker.network.internal': true,
  });
});

test('Join: the link is renamed, gets the MAC, the address, the default route (primary only) and the static routes', () => {
  const ans = { Gateway: '10.9.0.1', StaticRoutes: [{ Destination: '10.50.0.0/16', RouteType: 0, NextHop: '10.9.0.254' }, { Destination: '10.60.0.0/16', RouteType: 1 }] };
  assert.deepEqual(joinCommands('veth1', 'eth0', '10.9.0.2/24', '02:42:00:00:00:01', ans, true), [
    'link set dev veth1 name eth0', 'link set dev eth0 address 02:42:00:00:00:01', 'addr add 10.9.0.2/24 dev eth0', 'link set dev eth0 up',
    'route add default via 10.9.0.1 dev eth0', 'route add 10.50.0.0/16 via 10.9.0.254 dev eth0', 'route add 10.60.0.0/16 dev eth0',
  ]);
  assert.deepEqual(joinCommands('veth1', 'eth1', '10.9.0.2/24', undefined, { Gateway: '10.9.0.1' }, false), [
    'link set dev veth1 name eth1', 'addr add 10.9.0.2/24 dev eth1', 'link set dev eth1 up',
  ]);
});

test('a Join answer that would put something odd into ip(8) is refused', () => {
  assert.deepEqual(checkJoinAnswer({ InterfaceName: { SrcName: 'veth1', DstPrefix: 'eth' } }), { srcName: 'veth1', dstPrefix: 'eth' });
  assert.deepEqual(checkJoinAnswer({ InterfaceName: { SrcName: 'veth1' } }), { srcName: 'veth1', dstPrefix: 'eth' });
  assert.throws(() => checkJoinAnswer({}), /no usable interface name/);
  assert.throws(() => checkJoinAnswer({ InterfaceName: { SrcName: 'a b\nlink del eth0' } }), /no usable interface name/);
  assert.throws(() => checkJoinAnswer({ InterfaceName: { SrcName: 'v', DstPrefix: 'eth0\n' } }), /invalid interface prefix/);
  assert.throws(() => checkJoinAnswer({ InterfaceName: { SrcName: 'v' }, Gateway: 'nope' }), /unable to parse Gateway "nope"/);
  assert.throws(() => checkJoinAnswer({ InterfaceName: { SrcName: 'v' }, StaticRoutes: [{ Destination: 'x', RouteType: 0 }] }), /invalid static route/);
  assert.throws(() => checkJoinAnswer({ InterfaceName: { SrcName: 'v' }, StaticRoutes: [{ Destination: '10.0.0.0/8', RouteType: 0, NextHop: 'y' }] }), /failed to parse nexthop IP y/);
  assert.equal(checkMac('02:42:AC:11:00:02'), '02:42:ac:11:00:02');
  assert.equal(checkMac(''), undefined);
  assert.throws(() => checkMac('02:42'), /invalid MAC address/);
});

test('berth\'s IPAM on a plugin network is host-local alone; an IPAM plugin\'s address on a bridge is static IPAM', () => {
  const l = hostLocalOnly('berth-x', plan, [], '/ipam');
  assert.deepEqual(l.plugins, [{ type: 'host-local', ipam: { type: 'host-local', ranges: [[{ subnet: '10.9.0.0/24', gateway: '10.9.0.1', rangeStart: '10.9.0.1', rangeEnd: '10.9.0.254' }]], dataDir: '/ipam' } }]);
  const b = withStaticAddress(bridgeConfList({ name: 'n', bridge: 'br0', plan, ipamDir: '/ipam' }), '10.9.0.10/24', '10.9.0.1', false);
  assert.deepEqual(b.plugins[0]!.ipam, { type: 'static', addresses: [{ address: '10.9.0.10/24', gateway: '10.9.0.1' }], routes: [{ dst: '0.0.0.0/0' }] });
  assert.equal(b.plugins[0]!.type, 'bridge');
  assert.equal(b.plugins[1]!.type, 'portmap');
});
