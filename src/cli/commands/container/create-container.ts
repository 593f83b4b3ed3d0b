/** `create` as run and create do it: create, and on "no such image" pull then retry. */
import type { ContainerCreateRequest } from '../../../api/types/index.js';
import { NotFound } from '../../../errdefs/index.js';
import { familiarString, fullName, parseReference, withDefaultTag } from '../../../oci/reference.js';
import type { CliContext } from '../../context.js';
import { pullImage } from '../image/pull-progress.js';

export async function createContainer(ctx: CliContext, req: ContainerCreateRequest, name: string | undefined, pull: string): Promise<string> {
  const c = await ctx.client();
  const create = () => c.json<{ Id: string; Warnings: string[] | null }>('POST', '/containers/create', { query: { name }, body: req });
  if (pull === 'always') await pullImage(ctx, req.Image!, false);
  let res;
  try {
    res = await create();
  } catch (err) {
    if (!(err instanceof NotFound) || pull === 'never' || !/no such image/i.test(err.message)) throw err;
    const ref = withDefaultTag(parseReference(req.Image!));
    ctx.err.write(`Unable to find image '${familiarString(ref)}' locally\n`);
    await pullImage(ctx, `${fullName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`, false);
    res = await create();
  }
  for (const w of res.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
  return res.Id;
}
