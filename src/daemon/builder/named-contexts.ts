/**
 * `berth build --build-context name=DIR|docker-image://ref`, as the query's
 * `buildcontexts` JSON object names them: an image reference is used as
 * it is; `local` means the CLI sent the directory inside the context tar
 * under `.berth-build-contexts/<name>/` (the classic API has one upload),
 * which is moved out of the context here, before any step reads it:
 *
 *   <work>/context/                 the build context, without the named ones
 *   <work>/named-contexts/<name>/   each local named context
 */
import { lstat, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter, NotImplemented } from '../../errdefs/index.js';

export const NAMED_CONTEXTS_DIR = '.berth-build-contexts';

export type NamedContext = { kind: 'image'; ref: string } | { kind: 'local'; dir: string };

export async function namedContexts(given: Record<string, string> | undefined, ctx: string, work: string): Promise<Map<string, NamedContext>> {
  const out = new Map<string, NamedContext>();
  const sent = join(ctx, NAMED_CONTEXTS_DIR);
  const moved = join(work, 'named-contexts');
  // only when local contexts were asked for: otherwise a context directory of that name is the user's own
  const wantsLocal = Object.values(given ?? {}).includes('local');
  const hasSent = wantsLocal && await lstat(sent).then((s) => s.isDirectory(), () => false);
  if (hasSent) await rename(sent, moved);
  for (const [rawName, value] of Object.entries(given ?? {})) {
    const name = rawName.toLowerCase();
    if (!/^[a-z0-9][a-z0-9._/:@-]*$/.test(name)) throw new InvalidParameter('build.bad_param', `invalid build context name "${rawName}"`);
    if (value.startsWith('docker-image://')) {
      out.set(name, { kind: 'image', ref: value.slice('docker-image://'.length) });
    } else if (value === 'local') {
      const dir = join(moved, rawName);
      if (!hasSent || !(await lstat(dir).then((s) => s.isDirectory(), () => false))) {
        throw new InvalidParameter('build.bad_param', `build context "${rawName}" was not sent with the context`);
      }
      out.set(name, { kind: 'local', dir });
    } else {
      throw new NotImplemented('build.context_source', `build context "${rawName}": only a directory or docker-image:// is supported by berth, not "${value}"`);
    }
  }
  return out;
}
