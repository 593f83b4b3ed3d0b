/**
 * An idle daemon outside a swarm and without managed plugins loads neither
 * (issue 18: idle memory); each loads on its first request, answers as
 * before, and a restart without swarm state or plugins leaves them unloaded
 * again. What loaded is read from GET /debug/lazy (berthd --debug).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../support/daemon.js';

describe('parts loaded on first use', () => {
  let d: TestDaemon;
  const loaded = async () => (JSON.parse((await d.http('GET', '/debug/lazy')).body) as { Loaded: string[] }).Loaded;
  before(async () => {
    d = await TestDaemon.start({ extraArgs: ['--debug'] });
  });
  after(async () => {
    await d?.destroy();
  });

  test('ping, info, version, ps and the network and volume lists load none of them', async () => {
    for (const args of [['version'], ['info'], ['ps', '-a'], ['network', 'ls'], ['volume', 'ls'], ['images']]) {
      assert.equal((await d.docker(args)).code, 0, args.join(' '));
    }
    const info = JSON.parse((await d.docker(['info', '--format', '{{json .Swarm}}'])).stdout) as { LocalNodeState: string };
    assert.equal(info.LocalNodeState, 'inactive');
    assert.equal((await d.http('GET', '/_ping')).headers.swarm, 'inactive');
    assert.deepEqual(await loaded(), []);
  });

  test('a first boot and those requests load no node:crypto (ids from /dev/urandom), and the Date header is right', async () => {
    const debug = JSON.parse((await d.http('GET', '/debug/lazy')).body) as { Builtins: string[] };
    assert.ok(debug.Builtins.includes('http'), debug.Builtins.join(' '));
    assert.ok(!debug.Builtins.includes('crypto'), debug.Builtins.join(' '));
    const net = JSON.parse((await d.docker(['network', 'inspect', 'bridge', '--format', '{{json .}}'])).stdout) as { Id: string; Created: string };
    assert.match(net.Id, /^[0-9a-f]{64}$/);
    assert.ok(Math.abs(Date.parse(net.Created) - Date.now()) < 600_000, net.Created);
    const date = (await d.http('GET', '/_ping')).headers.date as string;
    assert.match(date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
    assert.ok(Math.abs(Date.parse(date) - Date.now()) < 5_000, date);
  });

  test('a swarm request loads swarm mode and answers as dockerd does', async () => {
    const r = await d.docker(['node', 'ls']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again\./);
    assert.deepEqual(await loaded(), ['swarm']);
    assert.equal((await d.http('GET', '/_ping')).headers.swarm, 'inactive');
  });

  test('a plugin request loads the managed plugins', async () => {
    const r = await d.docker(['plugin', 'ls', '--format', '{{.Name}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.deepEqual(await loaded(), ['swarm', 'plugins']);
  });

  test('after a restart with no swarm state and no plugins, nothing is loaded again', async () => {
    await d.restart();
    assert.equal((await d.docker(['info'])).code, 0);
    assert.deepEqual(await loaded(), []);
  });
});
