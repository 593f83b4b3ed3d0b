/** Mutual TLS between two nodes of one cluster, over real node:tls sockets on 127.0.0.1. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { createRootCA, type RootCA } from './ca.js';
import { newSwarmId } from './ids.js';
import { issueNodeCertificate, type NodeCredentials, type NodeIdentity } from './node-cert.js';
import { authorizeNode, clientTlsOptions, peerIdentity, serverTlsOptions } from './tls-options.js';

const clusterId = newSwarmId();
const managerId = newSwarmId();
const workerId = newSwarmId();
let ca: RootCA;
let otherCa: RootCA;
let manager: NodeCredentials;
let worker: NodeCredentials;
let stranger: NodeCredentials;
let server: Server;
let port: number;
/** What the server saw of each client, in order. */
const seen: Array<NodeIdentity | Error> = [];
const serverErrors: Error[] = [];

before(async () => {
  [ca, otherCa] = await Promise.all([createRootCA(), createRootCA()]);
  [manager, worker, stranger] = await Promise.all([
    issueNodeCertificate(ca, { nodeId: managerId, role: 'manager', clusterId, ipAddresses: ['127.0.0.1'] }),
    issueNodeCertificate(ca, { nodeId: workerId, role: 'worker', clusterId }),
    issueNodeCertificate(otherCa, { nodeId: newSwarmId(), role: 'worker', clusterId }),
  ]);
  server = createServer(serverTlsOptions(manager, ca.certPem), (socket) => {
    try {
      seen.push(peerIdentity(socket, ca.certPem));
      socket.end('hello\n');
    } catch (err) {
      seen.push(err as Error);
      socket.destroy();
    }
  });
  server.on('tlsClientError', (err) => serverErrors.push(err));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.close();
  await once(server, 'close');
});

/** Waits (up to a second) for the server side of a refused handshake to be reported. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

/** Connects, reads everything until the socket closes, and reports what happened. */
async function dial(opts: ReturnType<typeof clientTlsOptions>): Promise<{ data: string; peer?: NodeIdentity; error?: Error }> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, ...opts });
  let data = '';
  let peer: NodeIdentity | undefined;
  let error: Error | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (data += d));
  socket.on('error', (err) => (error ??= err));
  socket.on('secureConnect', () => (peer = peerIdentity(socket, ca.certPem)));
  socket.on('end', () => socket.end());
  await new Promise((resolve) => socket.on('close', resolve));
  return { data, ...(peer ? { peer } : {}), ...(error ? { error } : {}) };
}

test('a worker and a manager of the same CA connect with mutual auth and learn who the other is', async () => {
  const r = await dial(clientTlsOptions(worker, ca.certPem));
  assert.equal(r.error, undefined);
  assert.equal(r.data, 'hello\n');
  assert.deepEqual([r.peer?.nodeId, r.peer?.role, r.peer?.clusterId], [managerId, 'manager', clusterId]);
  const client = seen.at(-1) as NodeIdentity;
  assert.deepEqual([client.nodeId, client.role, client.clusterId], [workerId, 'worker', clusterId]);
  assert.equal(authorizeNode(client, clusterId, ['swarm-worker', 'swarm-manager']), workerId);
  assert.throws(() => authorizeNode(client, clusterId, ['swarm-manager']),
    (e: { code: string; message: string }) => e.code === 'swarm.permission_denied' && e.message === 'Permission denied: remote certificate not part of OUs: [swarm-manager]');
  assert.throws(() => authorizeNode(client, newSwarmId(), ['swarm-worker']), /not part of organization/);
});

test('a client with a certificate from another CA is refused by the server', async () => {
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    const before = seen.length;
    const errorsBefore = serverErrors.length;
    const r = await dial({ ...clientTlsOptions(stranger, ca.certPem), maxVersion });
    // TLS 1.2 fails the client's handshake; with TLS 1.3 the client has finished
    // its side before the server checks its certificate, so it just sees the close.
    if (maxVersion === 'TLSv1.2') assert.ok(r.error, 'the handshake should fail');
    assert.equal(r.data, '', maxVersion);
    assert.equal(seen.length, before, `${maxVersion}: the connection handler never ran`);
    await until(() => serverErrors.length > errorsBefore);
    assert.equal(serverErrors.length, errorsBefore + 1, `${maxVersion}: the server reports the refused client`);
  }
});

test('a client without a certificate is refused', async () => {
  const before = seen.length;
  const r = await dial({ ca: ca.certPem, servername: 'swarm-manager' });
  assert.ok(r.error);
  assert.equal(seen.length, before);
});

test('a client that trusts another CA refuses the server', async () => {
  const r = await dial(clientTlsOptions(worker, otherCa.certPem));
  assert.match(String(r.error?.message), /unable to verify|self[- ]signed|unknown ca|certificate/i);
  assert.equal(r.data, '');
});

test('clients expect a manager: a worker certificate does not pass for the swarm-manager name', async () => {
  const workerServer = createServer(serverTlsOptions(worker, ca.certPem), (s) => s.end('no\n'));
  workerServer.listen(0, '127.0.0.1');
  await once(workerServer, 'listening');
  try {
    const socket = connect({ host: '127.0.0.1', port: (workerServer.address() as AddressInfo).port, ...clientTlsOptions(manager, ca.certPem) });
    const [err] = (await once(socket, 'error').catch((e: unknown) => [e])) as [Error & { code?: string }];
    socket.destroy();
    assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  } finally {
    workerServer.close();
  }
});
