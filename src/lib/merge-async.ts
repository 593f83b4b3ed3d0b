/**
 * Many async iterables as one, each item as soon as its source has it (no
 * order between sources). Ending early (break, return) ends every source,
 * so a follower behind one of them stops too.
 *
 *   for await (const line of mergeAsync([a, b, c])) ...
 */
export async function* mergeAsync<T>(sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  const pull = (i: number) => pending.set(i, iterators[i]!.next().then((r) => ({ i, r })));
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      pull(i);
      yield r.value;
    }
  } finally {
    // the sources still running: end them (their pending next() settles or rejects unseen)
    for (const i of pending.keys()) {
      pending.get(i)!.catch(() => {});
      void Promise.resolve(iterators[i]!.return?.()).catch(() => {});
    }
  }
}
