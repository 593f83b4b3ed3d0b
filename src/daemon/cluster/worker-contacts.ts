/**
 * A worker's way to the store follows the managers. It joined through the
 * etcd members of that moment; without this, managers added since would go
 * unused, and the loss of the first ones would cut the worker off (shown
 * Down, its tasks unreported) although the quorum lives on. Every interval
 * it reads the members; on a change it hands the new contacts over once and
 * stops: the caller reopens its session with them, which follows again.
 *
 *   const stop = followContacts(store, state.etcdEndpoints ?? [], (c) => reopen(c));
 */
import { sleepUnlessAborted } from '../../lib/abortable-sleep.js';
import type { ClusterStore } from './store.js';
import { swarmContacts } from './swarm-authority.js';

export type Contacts = Awaited<ReturnType<typeof swarmContacts>>;

export const CONTACTS_INTERVAL_MS = 10_000;

export function followContacts(store: ClusterStore, current: readonly string[], onChange: (c: Contacts) => void, intervalMs = CONTACTS_INTERVAL_MS): () => void {
  const abort = new AbortController();
  void (async () => {
    while (!abort.signal.aborted) {
      await sleepUnlessAborted(intervalMs, abort.signal);
      if (abort.signal.aborted) return;
      // an unanswered read (store down, no quorum) changes nothing: the next round asks again
      const members = await store.listMembers().catch(() => undefined);
      const urls = members?.flatMap((m) => m.clientUrls) ?? [];
      if (!urls.length || sameSet(urls, current)) continue;
      const c = await swarmContacts(store).catch(() => undefined);
      if (!c?.etcdEndpoints.length) continue;
      abort.abort();
      onChange(c);
    }
  })();
  return () => abort.abort();
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}
