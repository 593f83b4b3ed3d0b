/** `berth context show`: the name of the current context. */
import { Command } from 'commander';
import type { CliContext } from '../../context.js';

export function contextShowCommand(ctx: CliContext): Command {
  return new Command('show')
    .description('Print the name of the current context')
    .action(async () => ctx.print(await ctx.currentContext()));
}
