/** `berth context update`: a new description or endpoint for a stored context. */
import { Command } from 'commander';
import { InvalidParameter, isBerthError } from '../../../errdefs/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { validateContextName } from '../../config/context-store.js';
import { collectEndpointOptions, endpointFromOptions } from './endpoint-options.js';

export function contextUpdateCommand(ctx: CliContext): Command {
  return new Command('update')
    .description('Update a context')
    .usage('[OPTIONS] CONTEXT')
    .argument('<context>')
    .option('--description <string>', 'Description of the context')
    .option('--docker <stringToString>', 'set the docker endpoint (host=, ca=, cert=, key=, skip-tls-verify=, from=)', collectEndpointOptions)
    .action(async (name: string, f: { description?: string; docker?: Record<string, string> }) => {
      try {
        validateContextName(name);
        const store = ctx.contextStore();
        const meta = await store.get(name);
        let tls = await store.tlsMaterial(name);
        if (f.description !== undefined) meta.Metadata = { ...meta.Metadata, Description: f.description };
        if (f.docker) {
          const choice = await endpointFromOptions(ctx, f.docker).catch((err: Error) => {
            throw new InvalidParameter('context.invalid_option', `unable to create docker endpoint config: ${err.message}`);
          });
          meta.Endpoints = { ...meta.Endpoints, docker: choice.endpoint };
          tls = choice.tls;
        }
        await store.save(meta, tls);
      } catch (err) {
        if (isBerthError(err)) throw new ExitError(1, err.message);
        throw err;
      }
      ctx.print(name);
      ctx.err.write(`Successfully updated context "${name}"\n`);
    });
}
