import { createReadStream } from 'node:fs';
import { Command } from 'commander';
import type { Readable } from 'node:stream';
import { jsonMessages, throwIfError } from '../../../client/json-stream.js';
import { collect, type CliContext } from '../../context.js';

/** POST /images/create?fromSrc=- with a tar body; resolves with the new image id. */
export async function importTarball(ctx: CliContext, body: Readable, repo: string | undefined, changes: string[], message?: string): Promise<string> {
  const c = await ctx.client();
  const res = await c.call('POST', '/images/create', {
    query: { fromSrc: '-', repo, changes, message },
    stream: body,
    headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' },
  });
  let id = '';
  for await (const m of jsonMessages(res)) {
    throwIfError(m);
    if (m.status) id = m.status;
  }
  return id;
}

export function importCommand(ctx: CliContext): Command {
  return new Command('import')
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<file|->')
    .argument('[repository[:tag]]')
    .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <string>', 'Set commit message for imported image')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .action(async (file: string, repo: string | undefined, o: { change: string[]; message?: string }) => {
      const body = file === '-' ? process.stdin : createReadStream(file);
      ctx.print(await importTarball(ctx, body, repo, o.change, o.message));
    });
}
