import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nodeCertProfile, nodeSubjectAltNames, opensslCaConfig, opensslTime, rootCaProfile, serialHex,
} from './cert-profile.js';

const now = new Date('2026-12-06T08:00:20Z');
const req = { nodeId: 'n1n1n1n1n1n1n1n1n1n1n1n1n', clusterId: 'c1c1c1c1c1c1c1c1c1c1c1c1c', role: 'worker' as const };

test('the root is CN=swarm-ca for 20 years from 5 minutes ago, a CA that signs certificates and CRLs', () => {
  const p = rootCaProfile(now);
  assert.equal(p.subject, '/CN=swarm-ca');
  assert.equal(p.notBefore.toISOString(), '2026-12-06T07:55:00.000Z');
  assert.equal(p.notAfter.getTime() - p.notBefore.getTime(), 630_720_000_000);
  assert.deepEqual(p.extensions, ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash']);
});

test('a node certificate is O=cluster, OU=role, CN=node, from an hour ago to 90 days from now', () => {
  const p = nodeCertProfile(req, now);
  assert.equal(p.subject, `/O=${req.clusterId}/OU=swarm-worker/CN=${req.nodeId}`);
  assert.equal(p.notBefore.toISOString(), '2026-12-06T07:00:00.000Z');
  assert.equal(p.notAfter.toISOString(), '2027-03-06T08:00:00.000Z');
  assert.ok(p.extensions.includes('extendedKeyUsage = serverAuth,clientAuth'));
  assert.ok(p.extensions.includes('keyUsage = critical,digitalSignature,keyEncipherment'));
  assert.ok(p.extensions.includes('basicConstraints = critical,CA:FALSE'));
});

test('a custom expiry is kept, and one under an hour falls back to 90 days as swarmkit', () => {
  const day = 86_400_000;
  const p = nodeCertProfile({ ...req, validityMs: 7 * day }, now);
  assert.equal(p.notAfter.toISOString(), '2026-12-13T08:00:00.000Z');
  const short = nodeCertProfile({ ...req, validityMs: 60_000 }, now);
  assert.equal(short.notAfter.toISOString(), '2027-03-06T08:00:00.000Z');
});

test('SANs are the role and the node id, swarm-ca for managers, then the extra names and addresses', () => {
  assert.deepEqual(nodeSubjectAltNames(req), ['DNS:swarm-worker', `DNS:${req.nodeId}`]);
  assert.deepEqual(nodeSubjectAltNames({ ...req, role: 'manager', dnsNames: ['node-1', 'swarm-ca'], ipAddresses: ['10.0.0.5', 'fd00::5'] }),
    ['DNS:swarm-manager', `DNS:${req.nodeId}`, 'DNS:swarm-ca', 'DNS:node-1', 'IP:10.0.0.5', 'IP:fd00::5']);
});

test('ids and names that could escape the DN or the config are refused', () => {
  for (const bad of [{ nodeId: 'a/CN=b' }, { clusterId: 'x\ny' }, { dnsNames: ['a,DNS:b'] }, { ipAddresses: ['10.0.0.300'] }, { role: 'boss' }]) {
    assert.throws(() => nodeCertProfile({ ...req, ...bad } as never, now), (e: { code: string }) => e.code === 'swarm.invalid_node_identity');
  }
});

test('openssl gets times as YYYYMMDDHHMMSSZ, positive 20-byte serials and a config with the extensions', () => {
  assert.equal(opensslTime(new Date('2027-03-06T08:00:00Z')), '20270306080000Z');
  assert.equal(serialHex(Buffer.alloc(20, 0xff)), `7f${'ff'.repeat(19)}`);
  const config = opensslCaConfig(nodeCertProfile(req, now));
  assert.match(config, /\[ ext \]\nbasicConstraints = critical,CA:FALSE\n/);
  assert.match(config, /subjectAltName = DNS:swarm-worker,DNS:n1n1/);
});
