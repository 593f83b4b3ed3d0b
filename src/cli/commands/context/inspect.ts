/** `berth context inspect`: metadata, endpoints, TLS files and storage paths of contexts. */
import { Command } from 'commander';
import { isBerthError } from '../../../errdefs/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { DEFAULT_CONTEXT } from '../../config/context-store.js';
import { renderInspect } from '../../format/formatter.js';
import { loadContext } from './endpoint-options.js';

const IN_MEMORY = '<IN MEMORY>';

export function contextInspectCommand(ctx: CliContext): Command {
  return new Command('inspect')
    .description('Display detailed information on one or more contexts')
    .usage('[OPTIONS] [CONTEXT] [CONTEXT...]')
    .argument('[contexts...]')
    .option('-f, --format <string>', "Format output using a custom template: 'json' or a Go template")
    .action(async (names: string[], f: { format?: string }) => {
      const refs = names.length ? names : [await ctx.currentContext()];
      const store = ctx.contextStore();
      const found: unknown[] = [];
      let error: string | undefined;
      for (const name of refs) {
        try {
          const { meta } = await loadContext(ctx, name);
          if (name === DEFAULT_CONTEXT) meta.Metadata = {}; // docker shows the default context without a description
          const isDefault = name === DEFAULT_CONTEXT;
          found.push({
            Name: meta.Name,
            Metadata: meta.Metadata,
            Endpoints: meta.Endpoints,
            TLSMaterial: isDefault ? {} : await store.tlsListing(name),
            Storage: isDefault ? { MetadataPath: IN_MEMORY, TLSPath: IN_MEMORY } : store.storageInfo(name),
          });
        } catch (err) {
          if (!isBerthError(err)) throw err;
          error = err.message;
          break;
        }
      }
      ctx.out.write(renderInspect(f.format, found, { escapeHTML: true })); // docker marshals contexts itself: <, > and & escaped
      if (error) throw new ExitError(1, error);
    });
}
