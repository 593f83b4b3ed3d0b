import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `lines` as the Dockerfile of a new build context `root/name`; returns the context's path. */
export function writeDockerfile(root: string, name: string, lines: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
  return dir;
}
