import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Image } from '../images/image-store.js';
import type { ImageConfig } from '../../oci/index.js';
import { matchCacheFrom } from './cache-from.js';

const config = (history: [string, boolean][], diffIds: string[]): ImageConfig => ({
  architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds as ImageConfig['rootfs']['diff_ids'] },
  history: history.map(([created_by, empty]) => ({ created_by, ...(empty ? { empty_layer: true } : {}) })),
});
const source = { id: 'sha256:src', size: 0, repoDigests: [], config: config([['base', false], ['ENV A=1', true], ['RUN make', false]], ['sha256:l0', 'sha256:l1']) } as unknown as Image;

test('a source whose history and layers extend the stage matches the next instruction, with its layer', () => {
  const stage = config([['base', false]], ['sha256:l0']);
  assert.deepEqual(matchCacheFrom([source], stage, 'ENV A=1'), { source });
  const afterEnv = config([['base', false], ['ENV A=1', true]], ['sha256:l0']);
  assert.deepEqual(matchCacheFrom([source], afterEnv, 'RUN make'), { source, diffId: 'sha256:l1', layerIndex: 1 });
});

test('no match for another instruction, another base layer or a diverging history', () => {
  assert.equal(matchCacheFrom([source], config([['base', false]], ['sha256:l0']), 'ENV A=2'), undefined);
  assert.equal(matchCacheFrom([source], config([['base', false]], ['sha256:other']), 'ENV A=1'), undefined);
  assert.equal(matchCacheFrom([source], config([['other base', false]], ['sha256:l0']), 'ENV A=1'), undefined);
  assert.equal(matchCacheFrom([source], config([['base', false], ['ENV A=1', true], ['RUN make', false]], ['sha256:l0', 'sha256:l1']), 'RUN x'), undefined);
});
