import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temp files share this prefix so start-up can sweep ones a crash left behind. */
export const TEMP_PREFIX = '.tmp-';

export function tempPathFor(path: string): string {
  // crypto loaded on first use (process.getBuiltinModule): the CLI imports this module but rarely writes
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${process.getBuiltinModule('node:crypto').randomBytes(6).toString('hex')}`);
}

/**
 * Replaces `path` with `data` so that a crash at any instant leaves either the
 * old content or the new one: temp file, fsync, rename, fsync of the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value));
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** Makes a rename or create inside `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
