import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackgroundTasks } from './background-tasks.js';

test('settled waits for every task, those added meanwhile too; a failure goes to its handler, not to settled', async () => {
  const tasks = new BackgroundTasks();
  const done: string[] = [];
  const failures: unknown[] = [];
  tasks.add(async () => {
    await sleep(20);
    done.push('slow');
    tasks.add(async () => { await sleep(10); done.push('added later'); }, (e) => failures.push(e));
  }, (e) => failures.push(e));
  tasks.add(async () => { throw new Error('umount failed'); }, (e) => failures.push(e));
  await tasks.settled();
  assert.deepEqual(done, ['slow', 'added later']);
  assert.deepEqual(failures.map((e) => (e as Error).message), ['umount failed']);
  await tasks.settled(); // nothing left: resolves at once
});
