import { contentStoreConformance } from './conformance.js';
import { MemoryContentStore } from './memory-content-store.js';

contentStoreConformance('memory content store', async () => {
  let store = new MemoryContentStore();
  return {
    store,
    inProgress: async () => Array.from({ length: store.inProgress() }, (_, i) => `write ${i}`),
    reopen: async () => (store = store.reopen()),
    cleanup: async () => {},
  };
});
