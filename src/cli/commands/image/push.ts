import { Command } from 'commander';
import { jsonMessages } from '../../../client/json-stream.js';
import { fullName, parseReference } from '../../../oci/reference.js';
import type { CliContext } from '../../context.js';
import { ProgressRenderer } from '../../progress.js';
import { registryAuthHeader } from '../../registry-auth.js';

export function pushCommand(ctx: CliContext): Command {
  return new Command('push')
    .description('Upload an image to a registry')
    .argument('<name[:tag]>')
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('-q, --quiet', 'Suppress verbose output')
    .option('--platform <string>', 'Push a platform-specific manifest as a single-platform image')
    .option('--disable-content-trust', 'Skip image signing (default true)')
    .action(async (name: string, o: { allTags?: boolean; quiet?: boolean }) => {
      const c = await ctx.client();
      const r = parseReference(name);
      const tag = o.allTags ? undefined : r.tag ?? (r.digest ? undefined : 'latest');
      if (!o.allTags && !r.tag && !o.quiet) ctx.out.write('Using default tag: latest\n');
      const res = await c.call('POST', `/images/${fullName(r)}/push`, {
        query: { tag },
        headers: { 'X-Registry-Auth': registryAuthHeader(await ctx.configFile(), fullName(r)) },
      });
      const view = new ProgressRenderer(ctx.out);
      for await (const m of jsonMessages(res)) {
        if (!o.quiet || m.errorDetail || m.error) view.write(m);
      }
      if (o.quiet) ctx.print(`${fullName(r)}${tag ? `:${tag}` : ''}`);
    });
}
