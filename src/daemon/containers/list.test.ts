import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filters } from '../../api/filters.js';
import { newContainerRecord } from './create.js';
import { selectContainers } from './list.js';
import { runningState, type ContainerRecord } from './record.js';

function container(name: string, health?: 'starting' | 'healthy' | 'unhealthy'): ContainerRecord {
  const id = Buffer.from(name).toString('hex').padEnd(64, '0');
  const rec = newContainerRecord({ id, name, request: { Cmd: ['true'] }, imageId: `sha256:${id}`, imageConfig: {}, cgroupVersion: 2 });
  rec.state = runningState(rec.state, 1, new Date());
  if (health) rec.state.Health = { Status: health, FailingStreak: 0, Log: [] };
  return rec;
}

test('ps --filter health picks containers by their health, none for those without a check', () => {
  const all = [container('plain'), container('ok', 'healthy'), container('bad', 'unhealthy'), container('new', 'starting')];
  const names = (...values: string[]) => selectContainers(all, { all: false, filters: new Filters({ health: values }) }).map((r) => r.name).sort();
  assert.deepEqual(names('healthy'), ['ok']);
  assert.deepEqual(names('unhealthy'), ['bad']);
  assert.deepEqual(names('starting'), ['new']);
  assert.deepEqual(names('none'), ['plain']);
  assert.deepEqual(names('healthy', 'starting'), ['new', 'ok']);
  assert.throws(() => names('sick'), /invalid filter 'health=sick': invalid value for health \(sick\): must be one of none, starting, healthy, unhealthy/);
});
