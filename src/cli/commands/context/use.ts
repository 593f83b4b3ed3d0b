/** `berth context use`: sets config.json's currentContext (shared with the docker CLI). */
import { Command } from 'commander';
import { isBerthError } from '../../../errdefs/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { DEFAULT_CONTEXT, validateContextName } from '../../config/context-store.js';
import { overridesWarning } from './ls.js';

export function contextUseCommand(ctx: CliContext): Command {
  return new Command('use')
    .description('Set the current berth context')
    .usage('CONTEXT')
    .argument('<context>')
    .action(async (name: string) => {
      try {
        if (name !== DEFAULT_CONTEXT) {
          validateContextName(name);
          await ctx.contextStore().get(name);
        }
        const config = await ctx.configFile();
        const value = name === DEFAULT_CONTEXT ? '' : name;
        // unchanged: no write (and no config file created just to say "default")
        if (config.currentContext !== value) await config.setCurrentContext(value);
      } catch (err) {
        if (isBerthError(err)) throw new ExitError(1, err.message);
        throw err;
      }
      ctx.print(name);
      ctx.err.write(`Current context is now "${name}"\n`);
      const warning = name !== DEFAULT_CONTEXT ? overridesWarning(ctx.env, `"${name}"`) : undefined;
      if (warning) ctx.err.write(warning);
    });
}
