import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes used by the files under `dir` (apparent sizes, each hard-linked
 * inode counted once), like the sizes `docker ps -s` and `system df` show.
 */
export async function directorySize(dir: string): Promise<number> {
  return (await directoryUsage(dir)).bytes;
}

/** directorySize's bytes and the number of inodes under `dir` (the CRI's writable layer usage). */
export async function directoryUsage(dir: string): Promise<{ bytes: number; inodes: number }> {
  const seen = new Set<string>();
  let total = 0;
  let inodes = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.nlink <= 1 || !seen.has(`${st.dev}:${st.ino}`)) inodes++;
      if (st.isDirectory()) {
        await walk(p);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return { bytes: total, inodes };
}
