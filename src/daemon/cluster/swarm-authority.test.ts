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

test('managers get the cluster data key with the CA key; workers never', async () => {
  const { store, tokens } = await seed();
  const dataKey = Buffer.alloc(32, 7);
  const authority = new SwarmAuthority({ store: () => store, clusterId, ca, log: () => {}, dataKey: async () => dataKey });
  assert.equal((await authority.admit({ token: tokens.manager, addr: '10.0.0.2', description })).dataKey, dataKey.toString('base64'));
  const worker = await authority.admit({ token: tokens.worker, addr: '10.0.0.3', description });
  assert.equal(worker.dataKey, undefined);
  const kv = (await store.get(nodeKey(worker.nodeId)))!;
  await store.put(kv.key, JSON.stringify({ ...(JSON.parse(kv.value) as NodeRecord), spec: { Labels: {}, Role: 'manager', Availability: 'active' } }));
  assert.equal((await authority.certificate(verifyNodeCertificate(worker.certPem, ca.certPem))).dataKey, dataKey.toString('base64'), 'a promoted worker gets it');
  await store.close();
});

test('task files over the swarm port: a worker gets only what its assigned tasks reference; a stale manager certificate counts as a worker', async () => {
  const { serveSwarmPort, requestTaskFiles } = await import('./join-protocol.js');
  const { issueNodeCertificate } = await import('./node-cert.js');
  const { store, tokens } = await seed();
  const data: Record<string, string> = { s1: 'one', s2: 'two', c1: 'conf' };
  const authority = new SwarmAuthority({
    store: () => store, clusterId, ca, log: () => {},
    fileData: async (_kind, id) => (data[id] !== undefined ? Buffer.from(data[id]!) : Promise.reject(new (await import('../../errdefs/index.js')).NotFound('swarm.secret_not_found', `secret ${id} not found`))),
  });
  const serverCreds = await issueNodeCertificate(ca, { nodeId: newSwarmId(), role: 'manager', clusterId, ipAddresses: ['127.0.0.1'] });
  const server = await serveSwarmPort('127.0.0.1', 0, serverCreds, ca.certPem, authority);
  try {
    const port = (server.address() as { port: number }).port;
    const worker = await authority.admit({ token: tokens.worker, addr: '127.0.0.1', description });
    const ask = (want: { secrets: string[]; configs: string[] }, creds = worker) => requestTaskFiles([`127.0.0.1:${port}`], ca.certPem, creds, want);
    await assert.rejects(ask({ secrets: ['s1'], configs: [] }), (e: Error & { code?: string }) => e.code === 'swarm.permission_denied' && /no task assigned to node .* references secret s1/.test(e.message));
    await store.put('/berth/swarm/tasks/t1', JSON.stringify({ ID: 't1', NodeID: worker.nodeId, Spec: { ContainerSpec: { Secrets: [{ SecretID: 's1' }], Configs: [{ ConfigID: 'c1' }] } } }));
    const got = await ask({ secrets: ['s1'], configs: ['c1'] });
    assert.deepEqual(got, { secrets: { s1: Buffer.from('one').toString('base64') }, configs: { c1: Buffer.from('conf').toString('base64') } });
    await assert.rejects(ask({ secrets: ['s1', 's2'], configs: [] }), /references secret s2/);
    // a manager certificate whose node record says worker (demoted while down) is treated as a worker
    const stale = await issueNodeCertificate(ca, { nodeId: worker.nodeId, role: 'manager', clusterId, ipAddresses: ['127.0.0.1'] });
    await assert.rejects(ask({ secrets: ['s2'], configs: [] }, { ...worker, ...stale }), /references secret s2/);
    const manager = await authority.admit({ token: tokens.manager, addr: '127.0.0.1', description });
    assert.deepEqual((await ask({ secrets: ['s2'], configs: [] }, manager)).secrets, { s2: Buffer.from('two').toString('base64') });
    await assert.rejects(ask({ secrets: ['nope'], configs: [] }, manager), (e: Error & { code?: string }) => e.code === 'swarm.task_file_not_found');
  } finally {
    await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    await store.close();
  }
});
