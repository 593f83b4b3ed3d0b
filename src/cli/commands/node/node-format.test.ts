import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeView, ServiceView, TaskView } from '../../../api/types/index.js';
import { renderList } from '../../format/formatter.js';
import { converged } from '../service/progress.js';
import { NODE_FORMAT, NODE_HEADERS, nodeRow, prettyTime } from './index.js';

const node = (id: string, host: string, manager?: { Leader?: boolean; Reachability: 'reachable' | 'unreachable' }): NodeView => ({
  ID: id, Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '', Spec: { Role: manager ? 'manager' : 'worker', Availability: 'drain' },
  Description: { Hostname: host, Platform: { Architecture: 'x86_64', OS: 'linux' }, Resources: { NanoCPUs: 0, MemoryBytes: 0 }, Engine: { EngineVersion: '28.0.0', Plugins: [] }, TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' } },
  Status: { State: 'ready', Addr: '' }, ...(manager ? { ManagerStatus: { ...manager, Addr: '' } } : {}),
});

describe('node ls formatting', () => {
  test('self carries a star, managers say Leader or their reachability, words are capitalised', () => {
    const out = renderList({ defaultFormat: NODE_FORMAT, headers: NODE_HEADERS, rows: [node('aaa', 'h1', { Leader: true, Reachability: 'reachable' }), node('bbb', 'h2', { Reachability: 'unreachable' }), node('ccc', 'h3')].map((n) => nodeRow(n, 'aaa')) });
    assert.equal(out, [
      'ID        HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION',
      'aaa *     h1         Ready     Drain          Leader           28.0.0',
      'bbb       h2         Ready     Drain          Unreachable      28.0.0',
      'ccc       h3         Ready     Drain                           28.0.0',
      '',
    ].join('\n'));
  });

  test('Joined at is Go\'s time.String, lowercased past the first letter as docker\'s PrettyPrint does', () => {
    assert.equal(prettyTime('2026-12-06T11:46:56.245000Z'), '2026-12-06 11:46:56.245 +0000 utc');
    assert.equal(prettyTime('2026-12-06T11:46:56Z'), '2026-12-06 11:46:56 +0000 utc');
  });
});

describe('service convergence', () => {
  const svc = (replicas: number): ServiceView => ({ ID: 's', Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '', Spec: { TaskTemplate: {}, Mode: { Replicated: { Replicas: replicas } } }, Endpoint: { Spec: { Mode: 'vip' } } });
  const task = (desired: TaskView['DesiredState'], state: TaskView['Status']['State']): TaskView => ({
    ID: 't', Version: { Index: 1 }, CreatedAt: '', UpdatedAt: '', Labels: {}, Spec: {}, ServiceID: 's', Slot: 1,
    Status: { Timestamp: '', State: state, Message: '', PortStatus: {} }, DesiredState: desired,
  });
  test('every wanted task running, none to stop still running', () => {
    assert.equal(converged(svc(2), [task('running', 'running'), task('running', 'running')]).done, true);
    assert.equal(converged(svc(2), [task('running', 'running'), task('running', 'preparing')]).done, false);
    assert.equal(converged(svc(1), [task('running', 'running'), task('shutdown', 'running')]).done, false);
    assert.deepEqual(converged(svc(1), [task('running', 'running'), task('shutdown', 'shutdown')]), { running: 1, desired: 1, done: true });
  });
  test('a running task on an older template is not converged', () => {
    const s = svc(1);
    s.Spec.TaskTemplate = { ContainerSpec: { Image: 'busybox', Env: ['B=2'] } };
    const old = { ...task('running', 'running'), Spec: { ContainerSpec: { Env: ['A=1'], Image: 'busybox' } } };
    assert.equal(converged(s, [old]).done, false);
    assert.equal(converged(s, [{ ...old, Spec: { ContainerSpec: { Env: ['B=2'], Image: 'busybox' } } }]).done, true, 'key order does not matter');
  });
});
