import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temp files share this prefix so start-up can sweep ones a crash left behind. */
export const TEMP_PREFIX = '.tmp-';

let tempSeq = 0;

export function tempPathFor(path: string): string {
  // unique by process and sequence (a leftover of an earlier process with the same pid is told apart by
  // Math.random); no node:crypto: it would stay loaded in an idle daemon (issue 18)
  const salt = Math.floor(Math.random() * 2 ** 32).toString(36);
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${process.pid.toString(36)}-${(++tempSeq).toString(36)}-${salt}`);
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
