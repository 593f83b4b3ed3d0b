import { Command } from 'commander';
import type { ImageDeleteResponseItem } from '../../../api/types/index.js';
import { ExitError, type CliContext } from '../../context.js';

export function rmiCommand(ctx: CliContext, name = 'rmi'): Command {
  return new Command(name)
    .description('Remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'Force removal of the image')
    .option('--no-prune', 'Do not delete untagged parents')
    .action(async (refs: string[], o: { force?: boolean; prune: boolean }) => {
      const c = await ctx.client();
      let failed = false;
      for (const ref of refs) {
        try {
          const items = await c.json<ImageDeleteResponseItem[]>('DELETE', `/images/${ref.split('/').map(encodeURIComponent).join('/')}`, {
            query: { force: o.force ? 1 : undefined, noprune: o.prune ? undefined : 1 },
          });
          for (const it of items) ctx.print(it.Untagged ? `Untagged: ${it.Untagged}` : `Deleted: ${it.Deleted}`);
        } catch (err) {
          failed = true;
          ctx.err.write(`Error response from daemon: ${(err as Error).message}\n`);
        }
      }
      if (failed) throw new ExitError(1);
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
      await c.post(`/images/${source.split('/').map(encodeURIComponent).join('/')}/tag`, {
        query: { repo: hasTag ? target.slice(0, i) : target, tag: hasTag ? target.slice(i + 1) : undefined },
      });
    });
}
