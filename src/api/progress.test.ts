import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressText } from './progress.js';

test('bars match what dockerd sent (push-progress.jsonl)', () => {
  assert.equal(progressText({ current: 38400, total: 1982305 }), `[>${' '.repeat(50)}]   38.4kB/1.982MB`);
  assert.equal(progressText({ current: 1152512, total: 1982305 }), `[${'='.repeat(29)}>${' '.repeat(21)}]  1.153MB/1.982MB`);
  assert.equal(progressText({ current: 1996800, total: 1982305 }), `[${'='.repeat(50)}>]  1.997MB`);
  assert.equal(progressText({ current: 266, total: 266 }), `[${'='.repeat(50)}>]     266B/266B`);
});

test('no total, nothing yet, narrow terminals and time left', () => {
  assert.equal(progressText({ current: 2048 }), ' 2.048kB');
  assert.equal(progressText({}), '');
  assert.equal(progressText({ current: 1, total: 2 }, 80), '      1B/2B');
  assert.equal(progressText({ current: 1000, total: 3000, start: 100 }, 200, 110_000), `[${'='.repeat(16)}>${' '.repeat(34)}]      1kB/3kB 20s`);
});
