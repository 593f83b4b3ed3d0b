import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMP_PREFIX } from '../../lib/atomic-file.js';
import { layerStoreConformance, type LayerStoreHarness } from './conformance.js';
import { CopyLayerStore } from './copy-layer-store.js';

const copyStore = async (): Promise<LayerStoreHarness> => {
  const root = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  const store = new CopyLayerStore(root);
  await store.init();
  return {
    store,
    // already flattened: the chain's one dir is what a container would see
    view: async (chainId) => {
      const dirs = await store.lowerDirs(chainId);
      if (dirs.length !== 1) throw new Error(`a copy layer is one dir, got ${dirs.length}`);
      return { dir: dirs[0]!, release: async () => {} };
    },
    inProgress: async () => (await readdir(root)).filter((n) => n.startsWith(TEMP_PREFIX)),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
};

layerStoreConformance('copy layer store', copyStore);
layerStoreConformance('copy layer store, written by GNU tar', copyStore, { writer: 'gnu-tar' });
