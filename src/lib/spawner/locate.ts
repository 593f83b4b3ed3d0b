/**
 * Where the build put native/berth-spawner: dist/native/, seen from the
 * bundle (dist/bundle/berthd.mjs), from one of its chunks
 * (dist/bundle/berthd-chunks/: berthd imports its wiring after reading its
 * flags) or from tsc's output (dist/src/lib/spawner/).
 */
import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const CANDIDATES = ['../native/berth-spawner', '../../native/berth-spawner', '../../../native/berth-spawner'];

export async function findSpawner(): Promise<string | undefined> {
  for (const rel of CANDIDATES) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return undefined;
}
