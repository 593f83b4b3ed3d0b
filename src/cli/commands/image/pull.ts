/** `pull`, and the pull that `run` / `create` do for an image that is not there. */
import { Command } from 'commander';
import { jsonMessages } from '../../../client/json-stream.js';
import { familiarString, fullName, parseReference, withDefaultTag } from '../../../oci/reference.js';
import type { CliContext } from '../../context.js';
import { ProgressRenderer } from '../../progress.js';
import { registryAuthHeader } from '../../registry-auth.js';

export interface PullOptions {
  quiet?: boolean;
  all?: boolean;
  platform?: string;
  /** Where progress goes: stdout for `pull`, stderr when `run` pulls. */
  out: NodeJS.WriteStream;
}

/** Pulls through the daemon; returns the full reference pulled (what `docker pull` prints last). */
export async function pullImage(ctx: CliContext, image: string, o: PullOptions): Promise<string> {
  const c = await ctx.client();
  const parsed = parseReference(image);
  const r = o.all ? parsed : withDefaultTag(parsed);
  if (!o.all && !parsed.tag && !parsed.digest && !o.quiet) o.out.write('Using default tag: latest\n');
  const fromImage = fullName(r);
  const tag = r.digest ?? r.tag;
  const res = await c.call('POST', '/images/create', {
    query: { fromImage, tag, platform: o.platform },
    headers: { 'X-Registry-Auth': registryAuthHeader(await ctx.configFile(), fromImage) },
  });
  const view = new ProgressRenderer(o.out);
  for await (const m of jsonMessages(res)) {
    if (o.quiet) {
      if (m.errorDetail || m.error) view.write(m);
      continue;
    }
    view.write(m);
  }
  return `${fullName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

export function pullCommand(ctx: CliContext): Command {
  return new Command('pull')
    .description('Download an image from a registry')
    .argument('<name[:tag|@digest]>')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('-q, --quiet', 'Suppress verbose output')
    .option('--disable-content-trust', 'Skip image verification (default true)')
    .action(async (name: string, o: { allTags?: boolean; platform?: string; quiet?: boolean }) => {
      const ref = await pullImage(ctx, name, { out: ctx.out, ...(o.quiet ? { quiet: true } : {}), ...(o.allTags ? { all: true } : {}), ...(o.platform ? { platform: o.platform } : {}) });
      ctx.print(ref);
    });
}

/** "Unable to find image 'x:latest' locally", then the pull, on stderr. */
export async function pullMissing(ctx: CliContext, image: string, platform: string | undefined): Promise<void> {
  const ref = withDefaultTag(parseReference(image));
  ctx.err.write(`Unable to find image '${familiarString(ref)}' locally\n`);
  await pullImage(ctx, image, { out: ctx.err, ...(platform ? { platform } : {}) });
}
