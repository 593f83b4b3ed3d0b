import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../../lib/ipv4.js';
import { bridgeConfList, pluginInput, pluginsToRun, runtimeConfig } from './cni-config.js';
import { answer, parseQuery, TYPE_A } from './dns-message.js';
import { chainNames, firewallRules } from './firewall.js';
import { checkStaticIp, hostRoutes, pickSubnet, planFromConfig } from './ipam.js';
import { randomMac } from './links.js';
import { portMap, portMappings } from './ports.js';
import { embeddedDnsRules, hostsFile, resolvConf } from './sandbox-files.js';

const cidr = (s: string) => parseCidr(s)!.cidr;

test('IPAM: user subnets are checked for overlap, gateway and range; defaults skip what is taken', () => {
  const p = planFromConfig({ Subnet: '10.5.0.0/24', IPRange: '10.5.0.128/25' }, [cidr('10.6.0.0/16')]);
  assert.equal(p.gateway, parseCidr('10.5.0.1/32')!.ip);
  assert.throws(() => planFromConfig({ Subnet: '10.5.0.0/24' }, [cidr('10.5.0.128/25')]), /Pool overlaps/);
  assert.throws(() => planFromConfig({ Subnet: '10.5.0/24' }, []), /invalid CIDR address: 10\.5\.0\/24/);
  assert.throws(() => planFromConfig({ Subnet: '10.5.0.0/24', Gateway: '10.6.0.1' }, []), /no matching subnet for gateway/);
  assert.throws(() => planFromConfig({ Subnet: '10.5.0.0/24', IPRange: '10.7.0.0/25' }, []), /not within subnet/);
  assert.equal(pickSubnet([cidr('172.17.0.0/16'), cidr('172.18.0.0/24')]).subnet.base, cidr('172.19.0.0/16').base);
  assert.throws(() => checkStaticIp('10.5.0.9', { ...p, userConfigured: false }), /user configured subnets/);
  assert.throws(() => checkStaticIp('10.9.0.9', p), /no configured subnet/);
});

test('host routes are read from /proc/net/route, without the default route', () => {
  const text = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n' +
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
  assert.deepEqual(hostRoutes(text), [cidr('192.0.2.0/24')]);
});

test('ports: bindings, ranges, -P and the Ports map', () => {
  const maps = portMappings({ '80/tcp': {}, '53/udp': {} }, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '90-91/tcp': [{ HostIp: '', HostPort: '' }] }, true);
  assert.deepEqual(maps, [
    { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostIp: '', hostPort: 0, containerPort: 90, protocol: 'tcp' },
    { hostIp: '', hostPort: 0, containerPort: 91, protocol: 'tcp' },
    { hostIp: '', hostPort: 0, containerPort: 53, protocol: 'udp' },
  ]);
  assert.throws(() => portMappings({}, { '70000/tcp': [{ HostIp: '', HostPort: '' }] }, false), /invalid port specification/);
  assert.throws(() => portMappings({}, { '80/xyz': [] }, false), /invalid proto/);
  assert.deepEqual(portMap({ '80/tcp': {}, '81/tcp': {} }, [{ hostIp: '', hostPort: 32768, containerPort: 80, protocol: 'tcp' }]),
    { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }], '81/tcp': null });
});

test('ports: IPv6 host addresses are kept (proxied), and the Ports map shows both families as dockerd does', () => {
  assert.deepEqual(portMappings({}, { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }, { HostIp: '[::]', HostPort: '8081' }] }, false), [
    { hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostIp: '::', hostPort: 8081, containerPort: 80, protocol: 'tcp' },
  ]);
  assert.throws(() => portMappings({}, { '80/tcp': [{ HostIp: '::g', HostPort: '' }] }, false), /invalid host IP: ::g/);
  assert.throws(() => portMappings({}, { '80/sctp': [{ HostIp: '::1', HostPort: '' }] }, false), /SCTP ports on IPv4 only/);
  const reserved = [
    { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const },
    { hostIp: '::', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const },
  ];
  assert.deepEqual(portMap({}, reserved), { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }] });
  // portmap DNATs the IPv4 side only, every address as before
  assert.deepEqual(runtimeConfig(reserved).portMappings, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }]);
  assert.deepEqual(runtimeConfig([reserved[1]!]), {});
});

test('CNI: a bridge list with host-local under the data root; portmap only with ports; --ip to host-local', () => {
  const list = bridgeConfList({ name: 'berth-abc', bridge: 'br-abc', plan: planFromConfig({ Subnet: '10.5.0.0/24', IPRange: '10.5.0.128/25' }, []), ipamDir: '/d/ipam' });
  const bridge = list.plugins[0]!;
  assert.equal(bridge.type, 'bridge');
  assert.equal(bridge.ipMasq, false);
  assert.deepEqual((bridge.ipam as { ranges: unknown }).ranges, [[{ subnet: '10.5.0.0/24', gateway: '10.5.0.1', rangeStart: '10.5.0.129', rangeEnd: '10.5.0.254' }]]);
  assert.equal((bridge.ipam as { dataDir: string }).dataDir, '/d/ipam');
  assert.deepEqual(pluginsToRun(list, {}).map((p) => p.type), ['bridge']);
  const rc = runtimeConfig([{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }], '10.5.0.7');
  assert.deepEqual(pluginsToRun(list, rc).map((p) => p.type), ['bridge', 'portmap']);
  const pm = pluginInput(list, list.plugins[1]!, rc, { ips: [] });
  assert.deepEqual(pm.runtimeConfig, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }] });
  assert.deepEqual(pm.prevResult, { ips: [] });
  assert.deepEqual(pluginInput(list, bridge, rc).runtimeConfig, { ips: ['10.5.0.7'] });
});

test('firewall: own chains, isolation before accepts, no masquerade for --internal', () => {
  const text = firewallRules(chainNames('berth0'), [
    { bridge: 'berth0', subnet: '172.17.0.0/16', internal: false },
    { bridge: 'br-x', subnet: '10.5.0.0/24', internal: true },
  ]);
  const lines = text.split('\n');
  assert.ok(lines.includes(':BERTH-FWD-berth0 - [0:0]'));
  const dropX = lines.indexOf('-A BERTH-FWD-berth0 -o br-x -j DROP');
  const acceptOut = lines.indexOf('-A BERTH-FWD-berth0 -i berth0 -j ACCEPT');
  assert.ok(dropX > 0 && acceptOut > dropX, 'traffic into another network is dropped before outbound accepts');
  assert.ok(lines.includes('-A BERTH-FWD-berth0 -i br-x -j DROP'));
  assert.ok(lines.includes('-A BERTH-NAT-berth0 -s 172.17.0.0/16 ! -o berth0 -j MASQUERADE'));
  assert.ok(!text.includes('-s 10.5.0.0/24'));
});

test('DNS: a query parses and gets an A answer', () => {
  const q = Buffer.from('abcd0100000100000000000003776562000001 0001'.replace(/ /g, ''), 'hex');
  const parsed = parseQuery(q)!;
  assert.equal(parsed.name, 'web');
  assert.equal(parsed.type, TYPE_A);
  const a = answer(parsed, [parseCidr('10.5.0.2/32')!.ip]);
  assert.equal(a.readUInt16BE(0), 0xabcd);
  assert.equal(a.readUInt16BE(6), 1);
  assert.deepEqual([...a.subarray(a.length - 4)], [10, 5, 0, 2]);
  assert.equal(parseQuery(a), undefined, 'answers are not queries');
});

test('resolv.conf and hosts per mode', () => {
  const host = 'nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp\noptions edns0\n';
  const none = { dns: [], search: [], options: [] };
  assert.equal(resolvConf(host, { kind: 'default' }, none), 'nameserver 10.0.0.2\nsearch corp\noptions edns0\n');
  assert.equal(resolvConf(host, { kind: 'embedded', server: '10.5.0.1' }, none), 'nameserver 10.5.0.1\nsearch corp\noptions edns0 ndots:0\n');
  assert.equal(resolvConf('nameserver 127.0.0.1\n', { kind: 'default' }, none), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConf(host, { kind: 'host' }, none), host);
  assert.match(hostsFile('web', '', ['10.5.0.2'], ['db:10.5.0.9']), /10\.5\.0\.9\tdb\n10\.5\.0\.2\tweb\n$/);
});

test('bridges get a random unicast, locally administered MAC address', () => {
  assert.equal(randomMac(Buffer.from([0xff, 1, 2, 3, 4, 5])), 'fe:01:02:03:04:05');
  assert.equal(randomMac(Buffer.from([0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee])), '02:aa:bb:cc:dd:ee');
  assert.match(randomMac(), /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
});

test('embedded DNS: 127.0.0.11:53 in the namespace goes to the gateway, from the container address', () => {
  assert.equal(embeddedDnsRules('10.5.0.1', '10.5.0.7'), [
    '*nat',
    '-A OUTPUT -d 127.0.0.11/32 -p udp --dport 53 -j DNAT --to-destination 10.5.0.1:53',
    '-A OUTPUT -d 127.0.0.11/32 -p tcp --dport 53 -j DNAT --to-destination 10.5.0.1:53',
    '-A POSTROUTING -s 127.0.0.0/8 -d 10.5.0.1/32 -j SNAT --to-source 10.5.0.7',
    'COMMIT',
    '',
  ].join('\n'));
});
