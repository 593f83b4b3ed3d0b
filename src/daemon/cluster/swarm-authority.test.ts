/** A manager's side of the swarm port over the memory store: roles by token, certificates by record. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createRootCA, type RootCA } from './ca.js';
import { newSwarmId } from './ids.js';
import { generateJoinTokens } from './join-token.js';
import { MemoryStore } from './memory-store.js';
import { verifyNodeCertificate } from './node-cert.js';
import { SwarmAuthority } from './swarm-authority.js';
import { CLUSTER_KEY, defaultSwarmSpec, nodeKey, type NodeRecord } from './swarm-objects.js';

const clusterId = newSwarmId();
let ca: RootCA;

before(async () => {
  ca = await createRootCA();
});

const description = { Hostname: 'h', Platform: { Architecture: 'x86_64', OS: 'linux' }, Resources: { NanoCPUs: 1e9, MemoryBytes: 1 }, Engine: { EngineVersion: 'x' }, TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' } } as NodeRecord['description'];

async function seed() {
  const store = new MemoryStore();
  const tokens = generateJoinTokens(ca.digest);
  await store.put(CLUSTER_KEY, JSON.stringify({ id: clusterId, createdAt: '', updatedAt: '', spec: defaultSwarmSpec(), joinTokens: tokens, rootCaCertPem: ca.certPem, defaultAddrPool: [], subnetSize: 24, dataPathPort: 4789 }));
  await store.addMember(['https://10.0.0.1:2380']);
  const authority = new SwarmAuthority({ store: () => store, clusterId, ca, log: () => {} });
  return { store, tokens, authority };
}

test('the manager token admits a manager: certificate with its address and 127.0.0.1, the CA key, a manager record', async () => {
  const { store, tokens, authority } = await seed();
  const answer = await authority.admit({ token: tokens.manager, addr: '10.0.0.2', description });
  assert.equal(answer.role, 'manager');
  assert.equal(answer.caKeyPem, ca.keyPem);
  assert.equal(verifyNodeCertificate(answer.certPem, ca.certPem).role, 'manager');
  assert.match(new X509Certificate(answer.certPem).subjectAltName ?? '', /IP Address:10\.0\.0\.2.*IP Address:127\.0\.0\.1/);
  const record = JSON.parse((await store.get(nodeKey(answer.nodeId)))!.value) as NodeRecord;
  assert.deepEqual([record.spec.Role, record.managerAddr], ['manager', '10.0.0.2:2377']);
  assert.equal(answer.caPem.includes('PRIVATE KEY'), false);
  await store.close();
});

test('the worker token admits a worker without the CA key', async () => {
  const { store, tokens, authority } = await seed();
  const answer = await authority.admit({ token: tokens.worker, addr: '10.0.0.3', description });
  assert.equal(answer.role, 'worker');
  assert.equal(answer.caKeyPem, undefined);
  assert.equal(verifyNodeCertificate(answer.certPem, ca.certPem).role, 'worker');
  await store.close();
});

test('a member node gets a certificate for the role its record has now; a removed node or another cluster gets none', async () => {
  const { store, tokens, authority } = await seed();
  const joined = await authority.admit({ token: tokens.worker, addr: '10.0.0.3', description });
  const peer = verifyNodeCertificate(joined.certPem, ca.certPem);
  const kv = (await store.get(nodeKey(joined.nodeId)))!;
  const record = JSON.parse(kv.value) as NodeRecord;
  await store.put(kv.key, JSON.stringify({ ...record, spec: { ...record.spec, Role: 'manager' } }));
  const promoted = await authority.certificate(peer);
  assert.equal(promoted.role, 'manager');
  assert.equal(promoted.caKeyPem, ca.keyPem);
  assert.equal(verifyNodeCertificate(promoted.certPem, ca.certPem).nodeId, joined.nodeId);
  await assert.rejects(authority.certificate({ ...peer, clusterId: newSwarmId() }), /not part of organization/);
  await store.delete(kv.key);
  await assert.rejects(authority.certificate(peer), /not found/);
  await store.close();
});
