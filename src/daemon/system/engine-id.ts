/** The daemon's ID (`docker info` ID): made once, kept in the data root. */
import { urandomBytes } from '../../lib/urandom.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';

export async function engineId(dataRoot: string): Promise<string> {
  const path = join(dataRoot, 'engine-id');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const id = (await urandomBytes(16)).toString('hex');
    await writeFileAtomic(path, id);
    return id;
  }
}
