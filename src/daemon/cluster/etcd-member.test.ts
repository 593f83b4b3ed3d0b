import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etcdArgs, etcdPaths, initialClusterOf, isEtcdFor } from './etcd-member.js';
import { prefixRangeEnd } from './etcd-store.js';

const tls = (n: string) => ({ caFile: `/pki/ca.pem`, certFile: `/pki/${n}.pem`, keyFile: `/pki/${n}-key.pem` });

test('the member lives under <data-root>/swarm/etcd', () => {
  assert.deepEqual(etcdPaths('/var/lib/berth'), {
    dir: '/var/lib/berth/swarm/etcd',
    dataDir: '/var/lib/berth/swarm/etcd/data',
    pidFile: '/var/lib/berth/swarm/etcd/etcd.pid',
    logFile: '/var/lib/berth/swarm/etcd/etcd.log',
  });
});

test('etcd flags: client and peer TLS with client-cert-auth on, URLs listened on and advertised, the cluster state asked for', () => {
  const args = etcdArgs({
    name: 'node-b',
    dataRoot: '/var/lib/berth',
    clientUrl: 'https://10.0.0.2:2379',
    peerUrl: 'https://10.0.0.2:2380',
    clientTls: tls('client'),
    peerTls: tls('peer'),
    initialCluster: 'node-a=https://10.0.0.1:2380,node-b=https://10.0.0.2:2380',
    clusterState: 'existing',
  });
  for (const want of [
    '--name=node-b',
    '--data-dir=/var/lib/berth/swarm/etcd/data',
    '--listen-client-urls=https://10.0.0.2:2379',
    '--advertise-client-urls=https://10.0.0.2:2379',
    '--listen-peer-urls=https://10.0.0.2:2380',
    '--initial-advertise-peer-urls=https://10.0.0.2:2380',
    '--initial-cluster=node-a=https://10.0.0.1:2380,node-b=https://10.0.0.2:2380',
    '--initial-cluster-state=existing',
    '--client-cert-auth=true',
    '--trusted-ca-file=/pki/ca.pem',
    '--cert-file=/pki/client.pem',
    '--key-file=/pki/client-key.pem',
    '--peer-client-cert-auth=true',
    '--peer-trusted-ca-file=/pki/ca.pem',
    '--peer-cert-file=/pki/peer.pem',
    '--peer-key-file=/pki/peer-key.pem',
  ]) {
    assert.ok(args.includes(want), want);
  }
  assert.ok(!args.some((a) => a.startsWith('http://') || a.includes('=http://')), 'no plain-text URL');
});

test('a joining member names every member, itself under its own name (etcd lists it nameless until it starts)', () => {
  const members = [
    { id: '1', name: 'node-a', peerUrls: ['https://10.0.0.1:2380'], clientUrls: ['https://10.0.0.1:2379'] },
    { id: '2', name: 'node-c', peerUrls: ['https://10.0.0.3:2380'], clientUrls: ['https://10.0.0.3:2379'] },
    { id: '3', name: '', peerUrls: ['https://10.0.0.2:2380'], clientUrls: [] },
  ];
  assert.equal(initialClusterOf(members, 'node-b', 'https://10.0.0.2:2380'), 'node-a=https://10.0.0.1:2380,node-c=https://10.0.0.3:2380,node-b=https://10.0.0.2:2380');
});

test('a pid is adopted only if it is an etcd on this data dir', () => {
  assert.equal(isEtcdFor(process.pid, '/var/lib/berth/swarm/etcd/data'), false);
  assert.equal(isEtcdFor(2 ** 22 + 1, '/var/lib/berth/swarm/etcd/data'), false);
});

test("a prefix's range end is the prefix with its last byte incremented", () => {
  assert.equal(prefixRangeEnd(Buffer.from('/nodes/')).toString(), '/nodes0');
  assert.deepEqual(prefixRangeEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixRangeEnd(Buffer.from([0xff])), Buffer.from([0]));
});
