/**
 * The swarm port (2377): how a node joins, over HTTPS with the cluster's
 * certificates. Two requests, both JSON errors `{"message": ...}` with the
 * status errdefs gives their kind:
 *
 *   GET  /v1/ca      → 200 text: the root CA bundle (PEM). Fetched WITHOUT
 *                      verifying the server: the joiner pins what it gets
 *                      against the digest in its token (checkCaAgainstToken)
 *                      and trusts nothing until that matches.
 *   POST /v1/join    { token, addr, description } over TLS verified against
 *                      the pinned CA (the server must hold a swarm-manager
 *                      certificate) →
 *                    200 { nodeId, clusterId, role, certPem, keyPem, caKeyPem?, dataKey?, managers: [{ nodeId, addr }], etcdEndpoints }
 *   POST /v1/certificate  mutual TLS: a member node presents its node
 *                      certificate and gets a new one for the role its node
 *                      record now has (a promotion or demotion) →
 *                    200 { role, certPem, keyPem, caKeyPem?, dataKey?, managers, etcdEndpoints }
 *   POST /v1/task-files  mutual TLS: a node asks for the data of secrets and
 *                      configs by id { secrets: [id], configs: [id] } →
 *                    200 { secrets: { id: base64 }, configs: { id: base64 } };
 *                      a worker gets only what a task assigned to it
 *                      references (the data key stays on managers)
 *   POST /v1/task-logs   mutual TLS: a manager asks a node for its task
 *                      containers' log lines (task-log-protocol.ts). Every
 *                      node serves the port for this one; a worker answers
 *                      the others with the not-a-manager error
 *
 * The manager matches the token in constant time (roleForJoinToken), issues
 * a worker certificate (CN = a new node id, O = the cluster id, the joiner's
 * address as an IP SAN), writes the node's record, and answers with the etcd
 * client URLs: the worker then reads and writes the store as an etcd
 * client authenticated by that certificate.
 *
 * Unlike swarmkit, the manager makes the worker's key (openssl-signer signs
 * only keys it holds); it travels once, inside the TLS session the joiner
 * verified against the pinned CA. A manager (by token or by promotion) also
 * gets the root CA's key, as swarmkit managers hold it: any manager can then
 * admit nodes and issue certificates.
 */
// https and tls load on use (process.getBuiltinModule): they are idle memory for a daemon that never needs them (issue 18)
import type { Server } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { BerthError, Forbidden, httpStatusOf, InvalidParameter, NotFound, Unavailable } from '../../errdefs/index.js';
import { MANAGER_OU } from './cert-profile.js';
import { checkCaAgainstToken, parseJoinToken } from './join-token.js';
import type { NodeCredentials, NodeIdentity } from './node-cert.js';
import { CLUSTER_CIPHERS, peerIdentity, serverTlsOptions } from './tls-options.js';
import type { NodeRecord } from './swarm-objects.js';
import { serveTaskLogs, TASK_LOGS_PATH, type TaskLogServer } from './task-log-protocol.js';

export interface JoinRequest {
  token: string;
  /** The joiner's address as it reaches the manager (its advertise IP). */
  addr: string;
  description: NodeRecord['description'];
}

/** A node's new credentials for its role, and where the swarm's managers and store are. */
export interface CertificateAnswer {
  role: 'manager' | 'worker';
  certPem: string;
  keyPem: string;
  /** The root CA's key: managers only. */
  caKeyPem?: string;
  /** The cluster data key (data-key.ts), base64: managers only, as the CA key. */
  dataKey?: string;
  managers: { nodeId: string; addr: string }[];
  etcdEndpoints: string[];
}

export interface JoinAnswer extends CertificateAnswer {
  nodeId: string;
  /** The joiner's address, as the manager recorded it. */
  addr: string;
  clusterId: string;
  caPem: string;
}

/** Ids of the secrets and configs a node needs the data of. */
export interface TaskFilesRequest {
  secrets: string[];
  configs: string[];
}

/** Their data, base64, by id. */
export interface TaskFilesAnswer {
  secrets: Record<string, string>;
  configs: Record<string, string>;
}

/** What the swarm port serves: the manager's side. */
export interface JoinAuthority {
  rootCaPem(): Promise<string>;
  admit(req: JoinRequest): Promise<JoinAnswer>;
  /** `peer` is the verified identity of the client certificate. */
  certificate(peer: NodeIdentity): Promise<CertificateAnswer>;
  /** Secret and config data for `peer`'s tasks. */
  taskFiles(peer: NodeIdentity, req: TaskFilesRequest): Promise<TaskFilesAnswer>;
}

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new InvalidParameter('swarm.join_request', 'join request too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Serves the swarm port on `host:port` with the node's certificate: the join
 * protocol on a manager (`authority`), task logs on every node (`taskLogs`).
 */
export async function serveSwarmPort(
  host: string, port: number, creds: NodeCredentials, caPem: string, authority: JoinAuthority | undefined, taskLogs?: TaskLogServer,
): Promise<Server> {
  const server = process.getBuiltinModule('node:https').createServer(serverTlsOptions(creds, caPem, { requireClientCert: false }), (req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    void (async () => {
      try {
        if (req.method === 'POST' && req.url === TASK_LOGS_PATH && taskLogs) {
          return await serveTaskLogs(res, peerIdentity(req.socket as TLSSocket, caPem), await readBody(req), taskLogs);
        }
        if (!authority) throw new Unavailable('swarm.not_manager', 'This node is not a swarm manager.');
        if (req.method === 'GET' && req.url === '/v1/ca') return send(200, await authority.rootCaPem(), 'application/x-pem-file');
        if (req.method === 'POST' && req.url === '/v1/certificate') {
          return send(200, JSON.stringify(await authority.certificate(peerIdentity(req.socket as TLSSocket, caPem))));
        }
        if (req.method === 'POST' && req.url === '/v1/task-files') {
          const peer = peerIdentity(req.socket as TLSSocket, caPem);
          let body: TaskFilesRequest;
          try {
            body = JSON.parse(await readBody(req)) as TaskFilesRequest;
          } catch {
            throw new InvalidParameter('swarm.join_request', 'invalid task files request');
          }
          const ids = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v as string[] : undefined);
          const secrets = ids(body?.secrets ?? []);
          const configs = ids(body?.configs ?? []);
          if (!secrets || !configs) throw new InvalidParameter('swarm.join_request', 'invalid task files request');
          return send(200, JSON.stringify(await authority.taskFiles(peer, { secrets, configs })));
        }
        if (req.method === 'POST' && req.url === '/v1/join') {
          let body: JoinRequest;
          try {
            body = JSON.parse(await readBody(req)) as JoinRequest;
          } catch {
            throw new InvalidParameter('swarm.join_request', 'invalid join request');
          }
          if (typeof body?.token !== 'string' || typeof body.addr !== 'string') throw new InvalidParameter('swarm.join_request', 'invalid join request');
          return send(200, JSON.stringify(await authority.admit(body)));
        }
        send(404, JSON.stringify({ message: 'page not found' }));
      } catch (err) {
        if (res.headersSent) return void res.destroy();
        const status = err instanceof BerthError ? httpStatusOf(err) : 500;
        send(status, JSON.stringify({ message: (err as Error).message }));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

interface Exchange {
  status: number;
  body: string;
  localAddress: string;
}

function exchange(remote: string, method: string, path: string, tls: { ca?: string; creds?: NodeCredentials }, body?: string): Promise<Exchange> {
  const url = new URL(`https://${remote}${path}`);
  return new Promise((resolve, reject) => {
    const req = process.getBuiltinModule('node:https').request(url, {
      method, timeout: 10_000, minVersion: 'TLSv1.2', ciphers: CLUSTER_CIPHERS,
      ...(tls.ca
        ? { ca: tls.ca, rejectUnauthorized: true, checkServerIdentity: (_host: string, cert: PeerCertificate) => process.getBuiltinModule('node:tls').checkServerIdentity(MANAGER_OU, cert) }
        : { rejectUnauthorized: false }),
      ...(tls.creds ? { cert: tls.creds.certPem, key: tls.creds.keyPem, agent: false } : {}),
      headers: body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      // the socket is detached from the response by its end: read the address now
      const localAddress = (res.socket as TLSSocket | null)?.localAddress ?? '';
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), localAddress }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

function errorOf(x: Exchange): string {
  try {
    return (JSON.parse(x.body) as { message?: string }).message ?? x.body;
  } catch {
    return x.body;
  }
}

/**
 * The joiner's side: fetch and pin the CA, then present the token. `addr`
 * undefined means "the address this host reaches the manager from".
 */
export async function requestJoin(remote: string, token: string, addr: string | undefined, description: NodeRecord['description']): Promise<JoinAnswer> {
  const parsed = parseJoinToken(token);
  let ca: Exchange;
  try {
    ca = await exchange(remote, 'GET', '/v1/ca', {});
  } catch (err) {
    throw new Unavailable('swarm.join_unreachable', `could not reach the manager at ${remote}: ${(err as Error).message}`);
  }
  if (ca.status !== 200) throw new Unavailable('swarm.join_unreachable', `the manager at ${remote} did not give its CA: ${errorOf(ca)}`);
  checkCaAgainstToken(parsed, ca.body);
  const own = addr ?? ca.localAddress.replace(/^::ffff:/, '');
  const res = await exchange(remote, 'POST', '/v1/join', { ca: ca.body }, JSON.stringify({ token, addr: own, description } satisfies JoinRequest));
  if (res.status !== 200) {
    const message = errorOf(res);
    throw res.status === 400 ? new InvalidParameter('swarm.join_token_rejected', message) : new Unavailable('swarm.join_refused', message);
  }
  return { ...(JSON.parse(res.body) as JoinAnswer), caPem: ca.body };
}

/**
 * A member node asks a manager for credentials matching its node record's
 * role (after `node promote` or `demote`), authenticated by its current
 * certificate. Tries each manager address in turn.
 */
export async function requestCertificate(managers: string[], caPem: string, creds: NodeCredentials): Promise<CertificateAnswer> {
  let last: Error = new Unavailable('swarm.join_unreachable', 'no manager to ask for a certificate');
  for (const remote of managers) {
    try {
      const res = await exchange(remote, 'POST', '/v1/certificate', { ca: caPem, creds });
      if (res.status === 200) return JSON.parse(res.body) as CertificateAnswer;
      last = new Unavailable('swarm.join_refused', `the manager at ${remote} refused a certificate: ${errorOf(res)}`);
    } catch (err) {
      last = new Unavailable('swarm.join_unreachable', `could not reach the manager at ${remote}: ${(err as Error).message}`);
    }
  }
  throw last;
}

/**
 * A worker's agent asks a manager for the data of its task's secrets and
 * configs, authenticated by its node certificate. Tries each manager in turn;
 * a refusal (403, 404) is final, an unreachable manager is not.
 */
export async function requestTaskFiles(managers: string[], caPem: string, creds: NodeCredentials, want: TaskFilesRequest): Promise<TaskFilesAnswer> {
  let last: Error = new Unavailable('swarm.join_unreachable', 'no manager to ask for secrets');
  for (const remote of managers) {
    let res: Exchange;
    try {
      res = await exchange(remote, 'POST', '/v1/task-files', { ca: caPem, creds }, JSON.stringify(want));
    } catch (err) {
      last = new Unavailable('swarm.join_unreachable', `could not reach the manager at ${remote}: ${(err as Error).message}`);
      continue;
    }
    if (res.status === 200) return JSON.parse(res.body) as TaskFilesAnswer;
    if (res.status === 403) throw new Forbidden('swarm.permission_denied', errorOf(res));
    if (res.status === 404) throw new NotFound('swarm.task_file_not_found', errorOf(res));
    last = new Unavailable('swarm.join_refused', `the manager at ${remote} refused the task files: ${errorOf(res)}`);
  }
  throw last;
}
