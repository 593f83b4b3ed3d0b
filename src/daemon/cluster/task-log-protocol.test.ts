/** `/v1/task-logs` over a real swarm port on 127.0.0.1: who may ask, the stream, and the end of a follow. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRootCA, type RootCA } from './ca.js';
import { newSwarmId } from './ids.js';
import { serveSwarmPort } from './join-protocol.js';
import { issueNodeCertificate } from './node-cert.js';
import { requestTaskLogs } from './task-log-protocol.js';
import type { TaskLogLine, TaskLogQuery } from './task-log-source.js';

const clusterId = newSwarmId();
let ca: RootCA;
before(async () => {
  ca = await createRootCA();
});

const Q: TaskLogQuery = { follow: true, stdout: true, stderr: true, tail: 1 };

test('a worker streams its task lines to a manager, until the manager lets go; a worker certificate, or the wrong node, is refused', async () => {
  const workerId = newSwarmId();
  const workerCreds = await issueNodeCertificate(ca, { nodeId: workerId, role: 'worker', clusterId, ipAddresses: ['127.0.0.1'] });
  const managerCreds = await issueNodeCertificate(ca, { nodeId: newSwarmId(), role: 'manager', clusterId, ipAddresses: ['127.0.0.1'] });
  const seen: { tasks: string[]; q: TaskLogQuery }[] = [];
  let readersEnded = 0;
  const server = await serveSwarmPort('127.0.0.1', 0, workerCreds, ca.certPem, undefined, {
    clusterId,
    logs: (tasks, q, signal) => {
      seen.push({ tasks, q });
      return (async function* (): AsyncGenerator<TaskLogLine> {
        try {
          yield { taskId: tasks[0]!, entry: { stream: 'stdout', time: '2026-01-01T00:00:00.000000001Z', log: 'first ünïcode\n' } };
          yield { taskId: tasks[0]!, entry: { stream: 'stderr', time: '2026-01-01T00:00:00.000000002Z', log: 'second\n' } };
          while (!signal.aborted) await sleep(10); // a follow: open until the manager goes
        } finally {
          readersEnded++;
        }
      })();
    },
  });
  try {
    const addr = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const ac = new AbortController();
    const got: TaskLogLine[] = [];
    for await (const line of requestTaskLogs({ nodeId: workerId, addr }, ca.certPem, managerCreds, ['t1'], { ...Q, sinceNs: 5n }, ac.signal)) {
      got.push(line);
      if (got.length === 2) ac.abort();
    }
    assert.deepEqual(got.map((l) => [l.taskId, l.entry.stream, l.entry.log]), [['t1', 'stdout', 'first ünïcode\n'], ['t1', 'stderr', 'second\n']]);
    assert.deepEqual(seen[0], { tasks: ['t1'], q: { follow: true, stdout: true, stderr: true, tail: 1, sinceNs: 5n } });
    for (let i = 0; i < 100 && readersEnded < 1; i++) await sleep(20);
    assert.equal(readersEnded, 1, 'the node stopped reading once the manager let go');
    const drain = async (it: AsyncIterable<TaskLogLine>) => { for await (const _ of it) void _; };
    await assert.rejects(drain(requestTaskLogs({ nodeId: workerId, addr }, ca.certPem, workerCreds, ['t1'], Q, new AbortController().signal)),
      (e: Error & { code?: string }) => e.code === 'swarm.node_unreachable' && /remote certificate not part of OUs: \[swarm-manager\]/.test(e.message));
    await assert.rejects(drain(requestTaskLogs({ nodeId: newSwarmId(), addr }, ca.certPem, managerCreds, ['t1'], Q, new AbortController().signal)),
      (e: Error & { code?: string }) => e.code === 'swarm.node_unreachable');
    // a worker's port answers nothing else
    assert.equal(seen.length, 1);
  } finally {
    await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
  }
});

test('a node that does not answer is given up after the connect timeout', async () => {
  const { createServer } = await import('node:net');
  const silent = createServer(() => {}); // accepts, never speaks TLS
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const creds = await issueNodeCertificate(ca, { nodeId: newSwarmId(), role: 'manager', clusterId });
  try {
    const started = Date.now();
    const it = requestTaskLogs({ nodeId: 'x', addr: `127.0.0.1:${(silent.address() as { port: number }).port}` }, ca.certPem, creds, ['t'], Q, new AbortController().signal, 300);
    await assert.rejects(async () => { for await (const _ of it) void _; }, /timed out/);
    assert.ok(Date.now() - started < 3000);
  } finally {
    silent.close();
  }
});
