/** The daemon's ID (`docker info` ID): made once, kept in the data root. */
import { randomBytes } from '../../lib/lazy-crypto.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';

export async function engineId(dataRoot: string): Promise<string> {
  const path = join(dataRoot, 'engine-id');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const id = randomBytes(16).toString('hex');
    await writeFileAtomic(path, id);
    return id;
  }
}
