/**
 * Many async iterables as one, each item as soon as its source has it (no
 * order between sources). `more`, when given, yields sources that join while
 * the merge runs (a follower's new tasks); the merge ends when every source
 * and `more` have ended. Ending early (break, return) ends every source and
 * `more`, so a follower behind one of them stops too.
 *
 *   for await (const line of mergeAsync([a, b, c])) ...
 */
export async function* mergeAsync<T>(sources: AsyncIterable<T>[], more?: AsyncIterable<AsyncIterable<T>>): AsyncGenerator<T> {
  type Settled = { kind: 'item'; i: number; r: IteratorResult<T> } | { kind: 'source'; r: IteratorResult<AsyncIterable<T>> };
  const iterators: AsyncIterator<T>[] = [];
  const pending = new Map<number, Promise<Settled>>();
  const pull = (i: number) => pending.set(i, iterators[i]!.next().then((r) => ({ kind: 'item' as const, i, r })));
  const add = (s: AsyncIterable<T>) => pull(iterators.push(s[Symbol.asyncIterator]()) - 1);
  sources.forEach(add);
  const joins = more?.[Symbol.asyncIterator]();
  let nextJoin: Promise<Settled> | undefined;
  const pullJoin = () => { nextJoin = joins!.next().then((r) => ({ kind: 'source' as const, r })); };
  if (joins) pullJoin();
  try {
    while (pending.size || nextJoin) {
      const settled = await Promise.race([...pending.values(), ...(nextJoin ? [nextJoin] : [])]);
      if (settled.kind === 'source') {
        if (settled.r.done) nextJoin = undefined;
        else {
          add(settled.r.value);
          pullJoin();
        }
        continue;
      }
      if (settled.r.done) {
        pending.delete(settled.i);
        continue;
      }
      pull(settled.i);
      yield settled.r.value;
    }
  } finally {
    // the sources still running: end them (their pending next() settles or rejects unseen)
    for (const i of pending.keys()) {
      pending.get(i)!.catch(() => {});
      void Promise.resolve(iterators[i]!.return?.()).catch(() => {});
    }
    if (nextJoin) {
      nextJoin.catch(() => {});
      void Promise.resolve(joins!.return?.()).catch(() => {});
    }
  }
}
