/** `create` as run and create do it: create, and on "no such image" pull then retry (`--pull missing|always|never`). */
import type { ContainerCreateRequest } from '../../../api/types/index.js';
import { InvalidParameter, NotFound } from '../../../errdefs/index.js';
import type { CliContext } from '../../context.js';
import { pullImage, pullMissing } from '../image/pull.js';

export async function createContainer(ctx: CliContext, req: ContainerCreateRequest, name: string | undefined, pull: string, platform?: string): Promise<string> {
  if (!['missing', 'always', 'never'].includes(pull)) throw new InvalidParameter('cli.pull_policy', `invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  const c = await ctx.client();
  const create = () => c.json<{ Id: string; Warnings: string[] | null }>('POST', '/containers/create', { query: { name }, body: req });
  if (pull === 'always') await pullImage(ctx, req.Image!, { out: ctx.err, ...(platform ? { platform } : {}) });
  let res;
  try {
    res = await create();
  } catch (err) {
    if (!(err instanceof NotFound) || pull !== 'missing' || !/no such image/i.test(err.message)) throw err;
    await pullMissing(ctx, req.Image!, platform);
    res = await create();
  }
  for (const w of res.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
  return res.Id;
}
