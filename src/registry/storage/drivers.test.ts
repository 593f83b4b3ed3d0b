import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverConformance } from './conformance.js';
import { FilesystemDriver } from './filesystem.js';
import { MemoryDriver } from './memory.js';

driverConformance('memory', async () => ({ driver: new MemoryDriver(), cleanup: async () => {} }));

driverConformance('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fsdriver-'));
  return { driver: new FilesystemDriver(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});
