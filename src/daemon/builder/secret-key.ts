/**
 * The per-daemon key that RUN steps' cache keys hash secrets with: a
 * changed secret misses the cache, and the key (HMAC, not a bare hash)
 * stops anyone with the image store from testing guesses of a value.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const loaded = new Map<string, Promise<Buffer>>();

export function secretKey(path: string): Promise<Buffer> {
  let p = loaded.get(path);
  if (!p) {
    p = (async () => {
      try {
        const k = await readFile(path);
        if (k.length === 32) return k;
      } catch {
        // first use: made below
      }
      const k = randomBytes(32);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, k, { mode: 0o600 });
      return k;
    })();
    loaded.set(path, p);
  }
  return p;
}

export function secretDigest(key: Buffer, id: string, value: Buffer | undefined): string {
  return value === undefined ? `${id}:absent` : `${id}:${createHmac('sha256', key).update(value).digest('hex')}`;
}
