import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeView } from '../../api/types/index.js';
import { MemoryStore } from './memory-store.js';
import { leaveManagerRefusal, managerStats, NO_LEADER, watchOwnRole, withNoLeaderErrors } from './manager-membership.js';
import { StoreUnavailable } from './store.js';
import { nodeKey } from './swarm-objects.js';
import { checkDemotion } from './swarm-nodes.js';

const manager = (id: string, reachable: boolean): NodeView =>
  ({ ID: id, Spec: { Role: 'manager' }, ManagerStatus: { Reachability: reachable ? 'reachable' : 'unreachable', Addr: `${id}:2377` } }) as unknown as NodeView;
const worker = (id: string): NodeView => ({ ID: id, Spec: { Role: 'worker' } }) as unknown as NodeView;

test('leave refusals read as dockerd\'s for 1, 2 and 3 managers', () => {
  const last = leaveManagerRefusal(managerStats([manager('a', true), worker('w')], 'a'));
  assert.equal(last.code, 'swarm.leave_last_manager');
  assert.equal(last.message, 'You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. ');
  const two = leaveManagerRefusal(managerStats([manager('a', true), manager('b', true)], 'a'));
  assert.equal(two.code, 'swarm.leave_manager');
  assert.match(two.message, /Removing this node leaves 1 managers out of 2\. Without a Raft quorum your swarm will be inaccessible\. The only way to restore/);
  const three = leaveManagerRefusal(managerStats([manager('a', true), manager('b', true), manager('c', true)], 'a'));
  assert.equal(three.message, 'You are attempting to leave the swarm on a node that is participating as a manager. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.');
  const threeOneDown = leaveManagerRefusal(managerStats([manager('a', true), manager('b', true), manager('c', false)], 'a'));
  assert.match(threeOneDown.message, /leaves 1 managers out of 3/);
  assert.match(leaveManagerRefusal(undefined).message, /Doing so may lose the consensus of your cluster\. /);
});

test('demotion is refused for the last manager and when the reachable rest would lack a majority', () => {
  assert.throws(() => checkDemotion([manager('a', true), worker('w')], 'a'), /attempting to demote the last manager of the swarm/);
  assert.throws(() => checkDemotion([manager('a', true), manager('b', true), manager('c', false)], 'b'), /loss of quorum/);
  checkDemotion([manager('a', true), manager('b', true), manager('c', false)], 'c');
  checkDemotion([manager('a', true), manager('b', true), manager('c', true)], 'c');
});

test('an API store turns StoreUnavailable into dockerd\'s "no leader" error and leaves other errors alone', async () => {
  const store = {
    get: async () => { throw new StoreUnavailable('no answer'); },
    put: async () => { throw new Error('other'); },
  };
  const api = withNoLeaderErrors(store);
  await assert.rejects(api.get(), (err: Error & { code?: string }) => err.message === NO_LEADER && err.code === 'swarm.no_leader');
  await assert.rejects(api.put(), /other/);
});

test('watchOwnRole reports the role now, each change, and the record going', async () => {
  const store = new MemoryStore();
  await store.put(nodeKey('n1'), JSON.stringify({ id: 'n1', spec: { Role: 'worker' } }));
  const seen: string[] = [];
  const stop = watchOwnRole(store, 'n1', (r) => seen.push(r));
  const until = async (n: number) => { for (let i = 0; i < 100 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10)); };
  await until(1);
  await store.put(nodeKey('n1'), JSON.stringify({ id: 'n1', spec: { Role: 'manager' } }));
  await until(2);
  await store.delete(nodeKey('n1'));
  await until(3);
  stop();
  assert.deepEqual(seen, ['worker', 'manager', 'removed']);
  await store.close();
});
