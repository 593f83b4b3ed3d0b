/** `berth context rm`: removes stored contexts; the one in use only with --force (then config.json forgets it). */
import { Command } from 'commander';
import { isBerthError } from '../../../errdefs/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { DEFAULT_CONTEXT } from '../../config/context-store.js';

export function contextRmCommand(ctx: CliContext): Command {
  return new Command('rm')
    .alias('remove')
    .description('Remove one or more contexts')
    .usage('CONTEXT [CONTEXT...]')
    .argument('<contexts...>')
    .option('-f, --force', 'Force the removal of a context in use')
    .action(async (names: string[], f: { force?: boolean }) => {
      const current = await ctx.currentContext();
      const store = ctx.contextStore();
      const errors: string[] = [];
      for (const name of names) {
        try {
          if (name === DEFAULT_CONTEXT) {
            errors.push('context "default" cannot be removed');
            continue;
          }
          if (name === current) {
            if (!f.force) {
              errors.push(`context "${name}" is in use, set -f flag to force remove`);
              continue;
            }
            await (await ctx.configFile()).setCurrentContext(''); // back to DOCKER_HOST / the default
          }
          if (!f.force && !(await store.exists(name))) {
            errors.push(`context "${name}" does not exist`);
            continue;
          }
          await store.remove(name);
          ctx.print(name);
        } catch (err) {
          if (!isBerthError(err)) throw err;
          errors.push(err.message);
        }
      }
      if (errors.length) throw new ExitError(1, errors.join('\n'));
    });
}
