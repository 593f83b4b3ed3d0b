/** Many containers at once: no error, no leak; `ps -a` lists a thousand. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../support/daemon.js';

describe('load', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('50 containers started concurrently, then removed concurrently', async () => {
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => d.docker(['run', '-d', '--name', `load-${i}`, 'busybox', 'sleep', '300'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const running = (await d.docker(['ps', '-q'])).stdout.trim().split('\n');
    assert.equal(running.length, 50);
    const rms = await Promise.all(running.map((id) => d.docker(['rm', '-f', id])));
    for (const r of rms) assert.equal(r.code, 0, r.stderr);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
    assert.doesNotMatch(d.logs, /\berror\b/);
  });

  test('ps -a lists 1000 containers', async () => {
    const body = JSON.stringify({ Image: 'busybox', Cmd: ['true'] });
    for (let batch = 0; batch < 1000; batch += 50) {
      const created = await Promise.all(Array.from({ length: 50 }, () => d.http('POST', '/v1.47/containers/create', body)));
      for (const c of created) assert.equal(c.status, 201, c.body);
    }
    const started = Date.now();
    const ps = await d.docker(['ps', '-aq']);
    const ms = Date.now() - started;
    assert.equal(ps.stdout.trim().split('\n').length, 1000);
    const list = JSON.parse((await d.http('GET', '/v1.47/containers/json?all=1')).body) as unknown[];
    assert.equal(list.length, 1000);
    process.stderr.write(`# ps -a with 1000 containers: ${ms} ms (docker CLI, informational)\n`);
    const pruned = await d.http('POST', '/v1.47/containers/prune');
    assert.equal((JSON.parse(pruned.body) as { ContainersDeleted: string[] }).ContainersDeleted.length, 1000);
  });
});
