/** `pull` through the daemon, rendering its progress stream. */
import { jsonMessages, throwIfError } from '../../../client/json-stream.js';
import { parseReference, withDefaultTag } from '../../../oci/reference.js';
import type { CliContext } from '../../context.js';

export async function pullImage(ctx: CliContext, ref: string, quiet: boolean): Promise<void> {
  const c = await ctx.client();
  const r = parseReference(ref);
  const fromImage = `${r.domain}/${r.path}`;
  const tag = r.digest ?? withDefaultTag(r).tag;
  const res = await c.call('POST', '/images/create', { query: { fromImage, tag }, headers: { 'X-Registry-Auth': 'e30=' } });
  for await (const m of jsonMessages(res)) {
    throwIfError(m);
    if (quiet) continue;
    if (m.status) ctx.err.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
  }
}
