/** The root CA and node certificates, made by openssl and read back with Node's X509Certificate. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caDigest, createRootCA, publicRootCA, rootCAFromPem, type RootCA } from './ca.js';
import { newSwarmId } from './ids.js';
import { issueNodeCertificate, renewalDelayMs, renewNodeCertificate, verifyNodeCertificate, type NodeCredentials } from './node-cert.js';
import { loadNodeCredentials, loadRootCA, saveNodeCredentials, saveRootCA } from './pki-files.js';

const DAY = 86_400_000;
const clusterId = newSwarmId();
let ca: RootCA;
let otherCa: RootCA;
let manager: NodeCredentials;
let worker: NodeCredentials;
const managerId = newSwarmId();
const workerId = newSwarmId();
let dir: string;

function code(c: string, message?: RegExp) {
  return (err: unknown) => {
    const e = err as { code: string; message: string };
    assert.equal(e.code, c);
    if (message) assert.match(e.message, message);
    return true;
  };
}

before(async () => {
  [ca, otherCa] = await Promise.all([createRootCA(), createRootCA()]);
  [manager, worker] = await Promise.all([
    issueNodeCertificate(ca, { nodeId: managerId, role: 'manager', clusterId, ipAddresses: ['10.0.0.1'], dnsNames: ['node-a'] }),
    issueNodeCertificate(ca, { nodeId: workerId, role: 'worker', clusterId }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'berth-pki-test-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the root CA is a self-signed CN=swarm-ca CA with an EC P-256 key, valid 20 years', () => {
  const x = new X509Certificate(ca.certPem);
  assert.equal(x.subject, 'CN=swarm-ca');
  assert.equal(x.issuer, 'CN=swarm-ca');
  assert.equal(x.ca, true);
  assert.ok(x.verify(x.publicKey));
  assert.equal(x.publicKey.asymmetricKeyType, 'ec');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const years = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / (365 * DAY);
  assert.ok(Math.abs(years - 20) < 0.02, `${years} years`);
  assert.ok(Date.parse(x.validFrom) <= Date.now());
  assert.equal(ca.digest, caDigest(ca.certPem));
  assert.match(ca.keyPem!, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.notEqual(ca.digest, otherCa.digest);
});

test('a manager certificate names the node, its role and the cluster, with swarmkit\'s SANs plus the advertise address', () => {
  const x = new X509Certificate(manager.certPem);
  assert.equal(x.subject, `O=${clusterId}\nOU=swarm-manager\nCN=${managerId}`);
  assert.equal(x.issuer, 'CN=swarm-ca');
  assert.equal(x.subjectAltName, `DNS:swarm-manager, DNS:${managerId}, DNS:swarm-ca, DNS:node-a, IP Address:10.0.0.1`);
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // server auth, client auth
  assert.equal(x.ca, false);
  assert.ok(x.checkIssued(new X509Certificate(ca.certPem)));
  assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));
  assert.equal(x.checkHost('swarm-manager'), 'swarm-manager');
  assert.equal(x.checkIP('10.0.0.1'), '10.0.0.1');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(x.checkPrivateKey(createPrivateKey(manager.keyPem)));
  assert.match(manager.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.notEqual(manager.keyPem, ca.keyPem);
});

test('node certificates are valid from an hour ago for about 90 days, with 20-byte positive serials', () => {
  const x = new X509Certificate(worker.certPem);
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  assert.ok(Math.abs(Date.now() - 3_600_000 - from) < 2 * 60_000, x.validFrom);
  assert.ok(Math.abs(to - Date.now() - 90 * DAY) < 2 * 60_000, x.validTo);
  assert.equal(x.serialNumber.length, 40);
  assert.ok(parseInt(x.serialNumber[0]!, 16) < 8);
  assert.notEqual(x.serialNumber, new X509Certificate(manager.certPem).serialNumber);
});

test('a worker certificate has no swarm-ca or swarm-manager name', () => {
  const x = new X509Certificate(worker.certPem);
  assert.equal(x.subject, `O=${clusterId}\nOU=swarm-worker\nCN=${workerId}`);
  assert.equal(x.subjectAltName, `DNS:swarm-worker, DNS:${workerId}`);
  assert.equal(x.checkHost('swarm-manager'), undefined);
});

test('verification reads back node id, role and cluster from certificates of this CA', () => {
  const m = verifyNodeCertificate(manager.certPem, ca.certPem);
  assert.deepEqual([m.nodeId, m.role, m.clusterId], [managerId, 'manager', clusterId]);
  const w = verifyNodeCertificate(worker.certPem, ca.certPem);
  assert.deepEqual([w.nodeId, w.role, w.clusterId], [workerId, 'worker', clusterId]);
  // a CA bundle with another root first still finds the issuer
  assert.equal(verifyNodeCertificate(worker.certPem, otherCa.certPem + ca.certPem).nodeId, workerId);
});

test('a certificate signed by another CA fails verification', async () => {
  const stranger = await issueNodeCertificate(otherCa, { nodeId: managerId, role: 'manager', clusterId });
  assert.throws(() => verifyNodeCertificate(stranger.certPem, ca.certPem), code('swarm.certificate_invalid', /^x509: certificate signed by unknown authority$/));
  assert.throws(() => verifyNodeCertificate(manager.certPem, otherCa.certPem), code('swarm.certificate_invalid', /unknown authority/));
});

test('an expired certificate, or one not yet valid, is refused with swarmkit\'s message', () => {
  const later = new Date(Date.now() + 91 * DAY);
  assert.throws(() => verifyNodeCertificate(worker.certPem, ca.certPem, { now: later }),
    code('swarm.certificate_invalid', new RegExp(`^certificate \\(1 - ${workerId}\\) not valid after \\w{3}, \\d\\d \\w{3} \\d{4} [\\d:]{8} UTC, and it is currently`)));
  assert.equal(verifyNodeCertificate(worker.certPem, ca.certPem, { now: later, allowExpired: true }).nodeId, workerId);
  assert.throws(() => verifyNodeCertificate(worker.certPem, ca.certPem, { now: new Date(Date.now() - DAY) }), code('swarm.certificate_invalid', /not valid before/));
});

test('the root CA itself is not a node certificate', () => {
  assert.throws(() => verifyNodeCertificate(ca.certPem, ca.certPem), code('swarm.certificate_invalid'));
  assert.throws(() => verifyNodeCertificate('no pem here', ca.certPem), code('swarm.certificate_invalid', /no certificates to validate/));
});

test('renewal keeps the node id and cluster, takes a new key, and can change the role', async () => {
  const renewed = await renewNodeCertificate(ca, worker.certPem);
  const id = verifyNodeCertificate(renewed.certPem, ca.certPem);
  assert.deepEqual([id.nodeId, id.role, id.clusterId], [workerId, 'worker', clusterId]);
  assert.notEqual(renewed.keyPem, worker.keyPem);
  const promoted = await renewNodeCertificate(ca, worker.certPem, { role: 'manager', ipAddresses: ['10.0.0.2'] });
  const p = verifyNodeCertificate(promoted.certPem, ca.certPem);
  assert.equal(p.role, 'manager');
  assert.equal(p.nodeId, workerId);
  assert.match(new X509Certificate(promoted.certPem).subjectAltName!, /DNS:swarm-ca, IP Address:10\.0\.0\.2$/);
  await assert.rejects(renewNodeCertificate(otherCa, worker.certPem), code('swarm.certificate_invalid'));
});

test('a CA without its key cannot sign', async () => {
  await assert.rejects(issueNodeCertificate(publicRootCA(ca), { nodeId: workerId, role: 'worker', clusterId }), code('swarm.invalid_ca', /no valid signer found/));
});

test('a root CA loaded from PEM is checked: self-signed CA, matching key', () => {
  assert.equal(rootCAFromPem(ca.certPem, ca.keyPem).digest, ca.digest);
  assert.equal(rootCAFromPem(ca.certPem).keyPem, undefined);
  assert.throws(() => rootCAFromPem(ca.certPem, otherCa.keyPem), code('swarm.invalid_ca', /certificate key mismatch/));
  assert.throws(() => rootCAFromPem(manager.certPem), code('swarm.invalid_ca', /not a self-signed CA/));
  assert.throws(() => rootCAFromPem(''), code('swarm.invalid_ca', /no valid root CA certificates found/));
});

test('renewal is due between 50% and 80% of the certificate\'s life', () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date(notBefore.getTime() + 100 * DAY);
  assert.equal(renewalDelayMs({ notBefore, notAfter }, notBefore, () => 0), 50 * DAY);
  assert.ok(renewalDelayMs({ notBefore, notAfter }, notBefore, () => 0.999999) <= 80 * DAY);
  assert.ok(renewalDelayMs({ notBefore, notAfter }, notBefore, () => 0.999999) > 79 * DAY);
  assert.equal(renewalDelayMs({ notBefore, notAfter }, new Date(notBefore.getTime() + 90 * DAY), () => 0.5), 0);
});

test('keys are written 0600 and certificates 0644 under Docker\'s file names, and read back', async () => {
  await saveRootCA(dir, ca, { withKey: true });
  await saveNodeCredentials(dir, manager);
  const mode = async (f: string) => (await stat(join(dir, f))).mode & 0o777;
  assert.equal(await mode('swarm-root-ca.key'), 0o600);
  assert.equal(await mode('swarm-node.key'), 0o600);
  assert.equal(await mode('swarm-root-ca.crt'), 0o644);
  assert.equal(await mode('swarm-node.crt'), 0o644);
  assert.equal(await readFile(join(dir, 'swarm-root-ca.crt'), 'utf8'), ca.certPem);
  assert.deepEqual(await loadRootCA(dir), ca);
  assert.deepEqual(await loadNodeCredentials(dir), manager);
  // a key that is not the certificate's (a crash between the two writes of a renewal)
  await writeFile(join(dir, 'swarm-node.key'), worker.keyPem, { mode: 0o600 });
  await assert.rejects(loadNodeCredentials(dir), code('swarm.credentials_mismatch'));
  assert.equal(await loadNodeCredentials(join(dir, 'missing')), undefined);
  assert.equal(await loadRootCA(join(dir, 'missing')), undefined);
});

test('signing leaves no scratch directory (and no key) behind', async () => {
  const scratchRoot = join(dir, 'tmp');
  await mkdir(scratchRoot);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = scratchRoot;
  try {
    await issueNodeCertificate(ca, { nodeId: workerId, role: 'worker', clusterId });
    await assert.rejects(issueNodeCertificate({ ...ca, keyPem: 'not a key' }, { nodeId: workerId, role: 'worker', clusterId }),
      (e: { code: string; message: string }) => e.code === 'swarm.openssl_failed' && !e.message.includes('not a key'));
  } finally {
    process.env.TMPDIR = saved;
  }
  assert.deepEqual(await readdir(scratchRoot), []);
});
