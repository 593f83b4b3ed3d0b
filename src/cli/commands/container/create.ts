import { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { addCreateOptions, createRequest, type CreateFlags } from './create-options.js';
import { createContainer } from './create-container.js';

export function createCommand(ctx: CliContext): Command {
  const cmd = new Command('create')
    .description('Create a new container')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions();
  addCreateOptions(cmd);
  return cmd.action(async (image: string, args: string[], f: CreateFlags) => {
    const size: [number, number] = ctx.out.isTTY ? [ctx.out.rows, ctx.out.columns] : [0, 0];
    ctx.print(await createContainer(ctx, createRequest(f, image, args, false, size), f.name, f.pull ?? 'missing', f.platform));
  });
}
