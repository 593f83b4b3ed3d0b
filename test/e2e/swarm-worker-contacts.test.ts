/**
 * A worker's way to the store follows the managers (worker-contacts.ts), on
 * a 4-node cluster: the worker joins while n1 is the only manager, two more
 * managers join after it; the worker learns of them (`docker info` lists
 * three remote managers, and its state.json three etcd endpoints), and when n1 is cut off the LAN the worker stays
 * Ready on the managers that remain, past the heartbeat's TTL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestCluster, type TestNode } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

describe('a worker follows the managers that join after it', () => {
  let c: TestCluster;
  let n1: TestNode;
  let n2: TestNode;
  let n3: TestNode;
  let w: TestNode;

  before(async () => {
    c = await TestCluster.start(4);
    [n1, n2, n3, w] = c.nodes as [TestNode, TestNode, TestNode, TestNode];
  });
  after(() => c?.destroy());

  /** node id -> status, as `docker node ls` on `on` shows it (the nodes share one hostname); empty while the managers elect. */
  const statuses = async (on: TestNode): Promise<Map<string, string>> => {
    const r = await on.docker(['node', 'ls', '--format', '{{.ID}} {{.Status}}']);
    if (r.code !== 0) return new Map();
    return new Map(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  };

  test('the worker joined through n1 alone learns of the managers that joined since', async () => {
    await n1.dockerOk(['swarm', 'init', '--advertise-addr', n1.ip]);
    const workerToken = (await n1.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
    await w.dockerOk(['swarm', 'join', '--token', workerToken, `${n1.ip}:2377`]);
    const managerToken = (await n1.dockerOk(['swarm', 'join-token', '-q', 'manager'])).trim();
    for (const n of [n2, n3]) await n.dockerOk(['swarm', 'join', '--token', managerToken, `${n1.ip}:2377`]);
    await waitFor(async () => {
      const managers = JSON.parse(await w.dockerOk(['info', '--format', '{{json .Swarm.RemoteManagers}}'])) as { Addr: string }[] | null;
      return (managers ?? []).map((m) => m.Addr.split(':')[0]).sort().join() === [n1.ip, n2.ip, n3.ip].sort().join();
    }, 60_000, 'the worker lists three remote managers');
    // what it saved: its store goes through all three members now, also after a restart
    const stateFile = join(w.daemon.dataRoot, 'swarm', 'state.json');
    await waitFor(async () => ((JSON.parse(await readFile(stateFile, 'utf8')) as { etcdEndpoints?: string[] }).etcdEndpoints ?? []).length === 3, 30_000, 'three etcd endpoints in the worker\'s state.json');
  });

  test('n1 cut off: the worker stays Ready through n2 and n3, past the heartbeat TTL', async () => {
    const workerId = (await w.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim();
    const n1Id = (await n1.dockerOk(['info', '--format', '{{.Swarm.NodeID}}'])).trim();
    n1.unplug();
    const cutAt = Date.now();
    try {
      // watched all along, not only at the end: a lease kept alive on n1's silent link would expire and
      // come back a moment later, and the worker would show Down in between
      const seen: string[] = [];
      let n1Down = 0;
      let afterN1Down = 0;
      // until 5 s past n1's Down and three looks at the worker since (a loaded node ls takes seconds)
      while (!n1Down || Date.now() - n1Down < 5_000 || afterN1Down < 3) {
        const now = await statuses(n2); // (empty while n2 and n3 elect a leader)
        if (now.has(workerId)) seen.push(now.get(workerId)!);
        if (n1Down && now.has(workerId)) afterN1Down++;
        if (!n1Down && now.get(n1Id) === 'Down') n1Down = Date.now();
        assert.ok(Date.now() - cutAt < 120_000, `after 2 minutes: n1 shown Down at ${n1Down ? n1Down - cutAt : 'never'}, the worker seen ${afterN1Down} times since`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(afterN1Down >= 3, `seen after n1 went Down: ${afterN1Down} times`);
      assert.deepEqual([...new Set(seen)], ['Ready'], `the worker as n2 showed it while n1 was away: ${seen.join(' ')}`);
    } finally {
      n1.plug();
    }
  });
});
