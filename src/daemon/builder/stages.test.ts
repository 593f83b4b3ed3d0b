import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile } from './dockerfile.js';
import { planStages } from './stages.js';

const plan = (lines: string[], target?: string) => planStages(parseDockerfile(lines.join('\n')), target);

test('independent stages wait for nothing; the final stage waits for the stages it copies from', () => {
  const p = plan([
    'FROM busybox AS a',
    'RUN sleep 2',
    'FROM busybox AS b',
    'RUN sleep 2',
    'FROM busybox',
    'COPY --from=a /x /x',
    'COPY --from=b /y /y',
  ]);
  assert.deepEqual(p.needed, [0, 1, 2]);
  assert.deepEqual([...p.deps].sort(([x], [y]) => x - y), [[0, []], [1, []], [2, [0, 1]]]);
});

test('FROM <stage>, COPY --from=<index> and RUN --mount=from=<stage> are dependencies; an image of the same name is not', () => {
  const p = plan([
    'FROM busybox AS base',
    'FROM base AS tools',
    'FROM alpine AS gen',
    'FROM busybox AS unused',
    'FROM busybox',
    'COPY --from=1 /t /t',
    'RUN --mount=type=bind,from=gen,target=/g cat /g/x',
    'COPY --from=busybox:latest /bin/sh /sh',
  ]);
  assert.deepEqual(p.needed, [0, 1, 2, 4]);
  assert.deepEqual(p.deps.get(4), [1, 2]);
  assert.deepEqual(p.deps.get(1), [0]);
  assert.deepEqual(p.deps.get(2), []);
  assert.equal(p.deps.has(3), false);
});

test('a target builds only the stages it needs; a later stage cannot be named before it exists', () => {
  const p = plan([
    'FROM busybox AS a',
    'COPY --from=b /x /x',
    'FROM busybox AS b',
    'FROM a AS c',
    'FROM busybox AS d',
  ], 'c');
  // `--from=b` in stage a names an image: b is defined after a
  assert.deepEqual(p.needed, [0, 2]);
  assert.deepEqual(p.deps.get(0), []);
  assert.deepEqual(p.deps.get(2), [0]);
});
