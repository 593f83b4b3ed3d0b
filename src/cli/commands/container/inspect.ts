import { Command } from 'commander';
import { NotFound } from '../../../errdefs/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { renderInspect } from '../../format/formatter.js';

type Kind = 'container' | 'image' | 'network' | 'volume';
const PATHS: Record<Kind, (ref: string) => string> = {
  container: (r) => `/containers/${encodeURIComponent(r)}/json`,
  image: (r) => `/images/${r.split('/').map(encodeURIComponent).join('/')}/json`,
  network: (r) => `/networks/${encodeURIComponent(r)}`,
  volume: (r) => `/volumes/${encodeURIComponent(r)}`,
};

/** `inspect` (any object, trying each kind in docker's order) and `container|image inspect`. */
export function inspectCommand(ctx: CliContext, kinds: Kind[] = ['container', 'image', 'network', 'volume']): Command {
  return new Command('inspect')
    .description(kinds.length > 1 ? 'Return low-level information on Docker objects' : `Display detailed information on one or more ${kinds[0]}s`)
    .argument(kinds.length > 1 ? '<name|id...>' : `<${kinds[0]}...>`)
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes if the type is container')
    .option('--type <string>', 'Return JSON for specified type')
    .action(async (refs: string[], o: { format?: string; type?: string }) => {
      const c = await ctx.client();
      const search = o.type ? [o.type as Kind] : kinds;
      const found: unknown[] = [];
      let failed = false;
      for (const ref of refs) {
        let hit: unknown;
        let notFound: Error | undefined;
        for (const k of search) {
          try {
            hit = await c.get(PATHS[k](ref));
            break;
          } catch (err) {
            if (!(err instanceof NotFound)) throw err;
            notFound = err;
          }
        }
        if (hit === undefined) {
          failed = true;
          // typed inspect shows the daemon's answer; the untyped one tried every kind
          ctx.err.write(search.length > 1 ? `Error: No such object: ${ref}\n` : `Error response from daemon: ${notFound?.message}\n`);
        } else found.push(hit);
      }
      ctx.out.write(renderInspect(o.format, found));
      if (failed) throw new ExitError(1);
    });
}
