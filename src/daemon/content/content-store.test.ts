import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentStoreConformance } from './conformance.js';
import { FileContentStore } from './content-store.js';

contentStoreConformance('file content store', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  const open = async () => {
    const store = new FileContentStore(root);
    await store.init();
    return store;
  };
  return {
    store: await open(),
    inProgress: () => readdir(join(root, 'ingest')),
    reopen: open,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});
