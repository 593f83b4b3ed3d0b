/**
 * What the built-in token endpoint grants. Without an ACL a signed-in user
 * may pull, push and delete in their own namespace (`alice` on `alice/…`)
 * and nothing else; anonymous requests get nothing. ACL entries (the
 * `docker_auth` shape) widen that:
 *
 *   - { account: alice, name: "team/*", actions: [pull, push] }
 *   - { account: "*", name: "public/*", actions: [pull] }      every signed-in user
 *   - { account: "", name: "public/*", actions: [pull] }       everyone, anonymous requests too
 *   - { account: ops, type: registry, name: catalog, actions: ["*"] }
 *
 * Asking for `repository:team/app:pull,push,delete` as alice grants
 * `pull,push`: the token carries the granted subset, and a scope with none
 * is left out.
 */
import type { Scope } from './auth.js';

export interface AclEntry {
  /** A user name; `*` any signed-in user; `` (empty) everyone, anonymous requests included. */
  account: string;
  /** `repository` (the default) or `registry` (for `catalog`). */
  type?: string;
  /** A glob: `*` any run of characters, `/` included; `?` one character. */
  name: string;
  /** pull, push, delete, or `*` for all. */
  actions: string[];
}

export const ACL_ACTIONS = ['pull', 'push', 'delete', '*'];

function glob(pattern: string): RegExp {
  const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

/** The actions of `asked` that `user` (undefined: anonymous) gets, in the order asked. */
export function grantedActions(acl: AclEntry[], user: string | undefined, asked: Scope): string[] {
  const allowed = new Set<string>();
  if (user && asked.type === 'repository' && asked.name.startsWith(`${user}/`)) for (const a of ['pull', 'push', 'delete']) allowed.add(a);
  for (const e of acl) {
    const who = e.account === '' || (user !== undefined && (e.account === '*' || e.account === user));
    if (who && (e.type ?? 'repository') === asked.type && glob(e.name).test(asked.name)) for (const a of e.actions) allowed.add(a);
  }
  return [...new Set(asked.actions)].filter((a) => allowed.has('*') || allowed.has(a));
}
