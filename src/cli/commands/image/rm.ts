import { Command } from 'commander';
import { imagePath } from '../../../client/engine-client.js';
import type { ImageDeleteResponseItem } from '../../../api/types/index.js';
import type { CliContext } from '../../context.js';
import { forEachRef } from '../../each.js';

export function rmiCommand(ctx: CliContext, name = 'rmi'): Command {
  return new Command(name)
    .description('Remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'Force removal of the image')
    .option('--no-prune', 'Do not delete untagged parents')
    .action(async (refs: string[], o: { force?: boolean; prune: boolean }) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (ref) => {
        const items = await c.json<ImageDeleteResponseItem[]>('DELETE', `/images/${imagePath(ref)}`, {
          query: { force: o.force ? 1 : undefined, noprune: o.prune ? undefined : 1 },
        });
        for (const it of items) ctx.print(it.Untagged ? `Untagged: ${it.Untagged}` : `Deleted: ${it.Deleted}`);
      });
    });
}

export function tagCommand(ctx: CliContext): Command {
  return new Command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source_image[:tag]>')
    .argument('<target_image[:tag]>')
    .action(async (source: string, target: string) => {
      const c = await ctx.client();
      const i = target.lastIndexOf(':');
      const hasTag = i > target.lastIndexOf('/');
      await c.post(`/images/${imagePath(source)}/tag`, {
        query: { repo: hasTag ? target.slice(0, i) : target, tag: hasTag ? target.slice(i + 1) : undefined },
      });
    });
}
