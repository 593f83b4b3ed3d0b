/**
 * Secrets and configs in service tasks, with the real docker CLI on a
 * 2-node cluster (n1 the manager, n2 a worker, busybox on each): a task the
 * worker runs reads its secret (fetched from the manager, kept on a tmpfs)
 * at /run/secrets/<name> and a config at /<target> with the modes asked for;
 * a secret in use cannot be removed; service rm removes the tmpfs. The etcd
 * member started here is killed by pid in `after` if a test failed before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

describe('service tasks with secrets and configs', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  const filesDir = (n: TestNode) => join(n.daemon.dataRoot, 'swarm-task-files');
  const tmpfsUnder = async (n: TestNode) => {
    const r = await n.sh('sh', ['-c', `grep ' ${filesDir(n)}/' /proc/self/mountinfo | awk '{print $9}'`]);
    return r.stdout.trim().split('\n').filter(Boolean);
  };

  before(async () => {
    c = await TestCluster.start(2, { busybox: true });
    [n1, n2] = c.nodes as [TestNode, TestNode];
  });
  after(() => c?.destroy());

  test('a manager and a worker; a secret and a config', async () => {
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const token = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    await n2.dockerOk(['swarm', 'join', '--token', token, `${n1.ip}:2377`]);
    await n1.dockerOk(['secret', 'create', 'db_pw', '-'], { input: 's3cr3t-value' });
    await n1.dockerOk(['config', 'create', 'app_ini', '-'], { input: '[app]\nport=80\n' });
  });

  test('a task on the worker reads its secret and config with the asked names, owners and modes', async () => {
    await n1.dockerOk(['service', 'create', '-d', '--name', 'reader', '--constraint', 'node.role==worker',
      '--secret', 'db_pw', '--secret', 'source=db_pw,target=other,uid=1000,gid=1001,mode=0400',
      '--config', 'source=app_ini,target=/etc/app.ini,mode=0440', 'busybox', 'sleep', '3600']);
    let name = '';
    await waitFor(async () => { [name = ''] = await n2.serviceContainers('reader'); return !!name; }, 60_000, 'reader running on n2');
    assert.equal(await n2.dockerOk(['exec', name, 'cat', '/run/secrets/db_pw']), 's3cr3t-value');
    assert.equal(await n2.dockerOk(['exec', name, 'cat', '/run/secrets/other']), 's3cr3t-value');
    assert.equal(await n2.dockerOk(['exec', name, 'cat', '/etc/app.ini']), '[app]\nport=80\n');
    assert.equal((await n2.dockerOk(['exec', name, 'stat', '-c', '%a %u %g', '/run/secrets/db_pw', '/run/secrets/other', '/etc/app.ini'])).trim().split('\n').join('|'),
      '444 0 0|400 1000 1001|440 0 0');
    // read-only in the container; on the worker only a tmpfs holds them
    const w = await n2.docker(['exec', name, 'sh', '-c', 'echo x > /run/secrets/db_pw']);
    assert.notEqual(w.code, 0);
    assert.deepEqual(await tmpfsUnder(n2), ['tmpfs']);
  });

  test('a secret a service uses cannot be removed', async () => {
    const r = await n1.docker(['secret', 'rm', 'db_pw']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /secret 'db_pw' is in use by the following service: reader/);
  });

  test('service rm removes the task\'s files from the worker', async () => {
    await n1.dockerOk(['service', 'rm', 'reader']);
    await waitFor(async () => (await n2.serviceContainers('reader')).length === 0 && (await tmpfsUnder(n2)).length === 0, 60_000, 'reader gone from n2 with its tmpfs');
    const left = await n2.sh('sh', ['-c', `ls -A ${filesDir(n2)} 2>/dev/null`]);
    assert.equal(left.stdout.trim(), '');
    await n1.dockerOk(['secret', 'rm', 'db_pw']);
  });
});
