/**
 * Task logs between nodes, over the swarm port (join-protocol.ts), which
 * every node serves (a worker only this request):
 *
 *   POST /v1/task-logs   mutual TLS; the client must hold a manager certificate of this cluster
 *     { tasks: [id], follow, stdout, stderr, tail?: N, since?: "<ns since the epoch>" }
 *   → 200 application/x-ndjson, one line per log line, as it is read:
 *     {"task":"<id>","stream":"stdout","time":"2026-…Z","log":"hello\n"}
 *
 * The answer is streamed and never held whole; with `follow` it stays open
 * until the manager closes the connection (its client left), which aborts
 * the node's readers. The manager checks that it talks to the node it
 * meant: the server's certificate must carry that node id (a DNS SAN of
 * every node certificate).
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
// https and tls load on use (process.getBuiltinModule): they are idle memory for a daemon that never needs them (issue 18)
import type { PeerCertificate } from 'node:tls';
import { InvalidParameter, Unavailable } from '../../errdefs/index.js';
import { MANAGER_OU } from './cert-profile.js';
import type { NodeCredentials, NodeIdentity } from './node-cert.js';
import type { TaskLogLine, TaskLogQuery } from './task-log-source.js';
import { authorizeNode, CLUSTER_CIPHERS } from './tls-options.js';

export const TASK_LOGS_PATH = '/v1/task-logs';

interface WireRequest {
  tasks: string[];
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  tail?: number;
  since?: string;
}

interface WireLine {
  task: string;
  stream: 'stdout' | 'stderr';
  time: string;
  log: string;
}

/** This node's side: whose logs it may give, and where they come from. */
export interface TaskLogServer {
  clusterId: string;
  logs(taskIds: string[], q: TaskLogQuery, signal: AbortSignal): AsyncIterable<TaskLogLine>;
}

function parseRequest(body: string): { tasks: string[]; q: TaskLogQuery } {
  const bad = () => new InvalidParameter('swarm.task_logs_request', 'invalid task logs request');
  let w: WireRequest;
  try {
    w = JSON.parse(body) as WireRequest;
  } catch {
    throw bad();
  }
  if (!Array.isArray(w?.tasks) || !w.tasks.every((t) => typeof t === 'string')) throw bad();
  if (w.tail !== undefined && !Number.isInteger(w.tail)) throw bad();
  if (w.since !== undefined && !/^\d+$/.test(w.since)) throw bad();
  return {
    tasks: w.tasks,
    q: { follow: !!w.follow, stdout: !!w.stdout, stderr: !!w.stderr, ...(w.tail !== undefined ? { tail: w.tail } : {}), ...(w.since ? { sinceNs: BigInt(w.since) } : {}) },
  };
}

/** Answers one `/v1/task-logs`; throws (before writing anything) for a refusal. */
export async function serveTaskLogs(res: ServerResponse, peer: NodeIdentity, body: string, server: TaskLogServer): Promise<void> {
  authorizeNode(peer, server.clusterId, [MANAGER_OU]);
  const { tasks, q } = parseRequest(body);
  const ac = new AbortController();
  res.once('close', () => ac.abort());
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  // headers now, so the manager knows this node answered before any line
  res.flushHeaders();
  try {
    for await (const { taskId, entry } of server.logs(tasks, q, ac.signal)) {
      if (ac.signal.aborted) break;
      const line: WireLine = { task: taskId, stream: entry.stream, time: entry.time, log: entry.log };
      if (!res.write(JSON.stringify(line) + '\n')) await once(res, 'drain', { signal: ac.signal }).catch(() => {});
    }
  } finally {
    res.end();
  }
}

export interface TaskLogTarget {
  nodeId: string;
  /** host:port of the node's swarm port. */
  addr: string;
}

/**
 * A manager asks one node for its tasks' lines. Rejects with Unavailable
 * when the node does not answer within `connectTimeoutMs`; once it has
 * answered there is no timeout (a follow may be quiet for hours). Aborting
 * `signal` closes the connection, and so the node's readers.
 */
export async function* requestTaskLogs(
  target: TaskLogTarget, caPem: string, creds: NodeCredentials, taskIds: string[], q: TaskLogQuery, signal: AbortSignal, connectTimeoutMs = 5000,
): AsyncGenerator<TaskLogLine> {
  const body = JSON.stringify({
    tasks: taskIds, follow: q.follow, stdout: q.stdout, stderr: q.stderr,
    ...(q.tail !== undefined ? { tail: q.tail } : {}), ...(q.sinceNs !== undefined ? { since: q.sinceNs.toString() } : {}),
  } satisfies WireRequest);
  const req = process.getBuiltinModule('node:https').request(new URL(`https://${target.addr}${TASK_LOGS_PATH}`), {
    method: 'POST', minVersion: 'TLSv1.2', ciphers: CLUSTER_CIPHERS, ca: caPem, rejectUnauthorized: true, cert: creds.certPem, key: creds.keyPem, agent: false,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => process.getBuiltinModule('node:tls').checkServerIdentity(target.nodeId, cert),
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
  });
  const unreachable = (why: string) => new Unavailable('swarm.node_unreachable', `could not get the logs of node ${target.nodeId} at ${target.addr}: ${why}`);
  const onAbort = () => req.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const timer = setTimeout(() => req.destroy(unreachable('timed out')), connectTimeoutMs);
      req.once('response', (r) => { clearTimeout(timer); resolve(r); });
      req.once('error', (err) => { clearTimeout(timer); reject(err instanceof Unavailable ? err : unreachable(err.message)); });
      req.end(body);
    });
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      let message = Buffer.concat(chunks).toString('utf8');
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch { /* not JSON: the text as it is */ }
      throw unreachable(message);
    }
    let rest = '';
    res.setEncoding('utf8'); // a character split across chunks stays whole
    try {
      for await (const chunk of res) {
        rest += chunk as string;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const w = JSON.parse(rest.slice(0, nl)) as WireLine;
          rest = rest.slice(nl + 1);
          yield { taskId: w.task, entry: { stream: w.stream, time: w.time, log: w.log } };
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw unreachable((err as Error).message);
    }
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    req.destroy();
  }
}
