import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatsSample } from '../../api/types/index.js';
import { workingSet } from './stats.js';

const sample = (usage: number, stats: Record<string, number>) => ({ memory_stats: { usage, stats } }) as unknown as StatsSample;

test('the working set is usage less inactive file pages (cgroup v1 total_inactive_file, v2 inactive_file), never below 0', () => {
  assert.equal(workingSet(sample(1000, { total_inactive_file: 300 })), 700);
  assert.equal(workingSet(sample(1000, { inactive_file: 100 })), 900);
  assert.equal(workingSet(sample(100, { total_inactive_file: 300 })), 0);
  assert.equal(workingSet(sample(0, {})), 0);
});
