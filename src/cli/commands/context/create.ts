/** `berth context create`: a named endpoint, stored where the docker CLI keeps its contexts. */
import { Command } from 'commander';
import { InvalidParameter, isBerthError } from '../../../errdefs/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { validateContextName } from '../../config/context-store.js';
import { collectEndpointOptions, endpointFromOptions, loadContext, type EndpointChoice } from './endpoint-options.js';

interface Flags {
  description?: string;
  docker?: Record<string, string>;
  from?: string;
}

export function contextCreateCommand(ctx: CliContext): Command {
  return new Command('create')
    .description('Create a context')
    .usage('[OPTIONS] CONTEXT')
    .argument('<context>')
    .option('--description <string>', 'Description of the context')
    .option('--docker <stringToString>', 'set the docker endpoint (host=, ca=, cert=, key=, skip-tls-verify=, from=)', collectEndpointOptions)
    .option('--from <string>', 'create context from a named context')
    .addHelpText('after', '\nExample:\n\n$ berth context create my-context --description "some description" --docker "host=tcp://myserver:2376,ca=~/ca-file,cert=~/cert-file,key=~/key-file"\n')
    .action(async (name: string, f: Flags) => {
      try {
        const store = ctx.contextStore();
        validateContextName(name);
        if (await store.exists(name)) throw new InvalidParameter('context.exists', `context "${name}" already exists`);
        let choice: EndpointChoice;
        let description = f.description;
        if (f.docker && f.from) throw new InvalidParameter('context.invalid_option', 'cannot use --docker flag when --from is set');
        if (f.docker) {
          choice = await endpointFromOptions(ctx, f.docker).catch((err: Error) => {
            throw new InvalidParameter('context.invalid_option', `unable to create docker endpoint config: ${err.message}`);
          });
        } else {
          // a copy of --from, or of the current context
          const from = await loadContext(ctx, f.from ?? (await ctx.currentContext()));
          const ep = from.meta.Endpoints.docker;
          if (!ep) throw new InvalidParameter('context.no_endpoint', 'cannot find docker endpoint in context');
          choice = { endpoint: ep, tls: from.tls };
          description ||= typeof from.meta.Metadata.Description === 'string' ? from.meta.Metadata.Description : undefined;
        }
        await store.save({ Name: name, Metadata: description ? { Description: description } : {}, Endpoints: { docker: choice.endpoint } }, choice.tls);
      } catch (err) {
        if (isBerthError(err)) throw new ExitError(1, err.message);
        throw err;
      }
      ctx.print(name);
      ctx.err.write(`Successfully created context "${name}"\n`);
    });
}
