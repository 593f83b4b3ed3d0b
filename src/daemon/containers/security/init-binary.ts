/** The init for `--init`: the configured one, `docker-init` on PATH, or Debian's tini-static. */
import { access, constants, realpath } from 'node:fs/promises';
import { join } from 'node:path';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function findInitBinary(configured: string | undefined, path = process.env.PATH ?? DEFAULT_PATH): Promise<string | undefined> {
  const candidates = configured ? [configured] : [
    ...path.split(':').filter(Boolean).map((d) => join(d, 'docker-init')),
    '/usr/bin/tini-static',
  ];
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return await realpath(c);
    } catch {
      // not there or not executable: the next candidate
    }
  }
  return undefined;
}
