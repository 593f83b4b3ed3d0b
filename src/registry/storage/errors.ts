/**
 * The two failures a storage driver names (distribution's
 * storagedriver.PathNotFoundError and InvalidPathError). Anything else a
 * driver throws (a dropped connection, a permission error, S3 down) is an
 * outage: the registry answers 5xx for it, never "unknown" (404).
 */
export class PathNotFound extends Error {
  constructor(readonly path: string) {
    super(`${path}: path not found`);
  }
}

export class InvalidPath extends Error {
  constructor(readonly path: string) {
    super(`invalid storage path ${JSON.stringify(path)}`);
  }
}

/** A path's parts, refused when one could climb out of the driver's root. */
export function pathParts(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  if (parts.some((p) => p === '..' || p === '.' || p.includes('\0'))) throw new InvalidPath(path);
  return parts;
}

/** Runs a driver call, turning the backend's not-found into PathNotFound. */
export async function orNotFound<T>(path: string, isNotFound: (err: unknown) => boolean, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isNotFound(err)) throw new PathNotFound(path);
    throw err;
  }
}
