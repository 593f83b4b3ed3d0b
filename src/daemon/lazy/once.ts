/**
 * What the daemon's lazy parts share: load once on first use, route
 * backends whose methods load their target, and the record of what loaded
 * (`GET /debug/lazy` in debug mode), so a test sees an idle daemon load
 * none of them (issue 18: idle memory).
 */

/** Runs `load` once, on first use; a failed load is tried again next time. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= load().catch((err: unknown) => {
    p = undefined;
    throw err;
  }));
}

/**
 * An object with `T`'s methods (all async; `T` given explicitly), each of
 * which awaits `get()` and calls the same method of what it gives. `names` lists every method (the compiler
 * checks that none is missing), so a backend that gains one fails to build
 * instead of answering "not a function".
 */
export function deferred<T>(get: () => Promise<NoInfer<T>>, names: Record<keyof T, true>): T {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(names)) {
    out[name] = async (...a: unknown[]) => {
      const target = (await get()) as Record<string, (...a: unknown[]) => Promise<unknown>>;
      return target[name]!(...a);
    };
  }
  return out as T;
}

const loadedParts = new Set<string>();

/** A lazy part loaded (kept for the debug endpoint; one short name each). */
export function noteLoaded(part: string): void {
  loadedParts.add(part);
}

/** The lazy parts loaded so far, in load order. */
export function loaded(): string[] {
  return [...loadedParts];
}

/**
 * node's public built-in modules this process has loaded (`fs`, `http`, not
 * `internal/...`): each stays resident, so a test can see that an idle daemon
 * has not loaded, say, node:crypto.
 */
export function loadedBuiltins(): string[] {
  const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
  return list.filter((m) => m.startsWith('NativeModule ') && !m.startsWith('NativeModule internal/')).map((m) => m.slice('NativeModule '.length));
}
