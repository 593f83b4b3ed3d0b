/** `save` (archive to a file or stdout) and `load` (archive from a file or stdin), like docker's. */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { jsonMessages, throwIfError } from '../../../client/json-stream.js';
import { ExitError, type CliContext } from '../../context.js';

export function saveCommand(ctx: CliContext): Command {
  return new Command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<image...>')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .option('--platform <string>', 'Save only the given platform variant')
    .action(async (names: string[], o: { output?: string }) => {
      if (!o.output && ctx.out.isTTY) {
        throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      const c = await ctx.client();
      const res = await c.call('GET', '/images/get', { query: { names } });
      // a file appears only once the archive is complete, as docker does with -o
      const target = o.output ? createWriteStream(`${o.output}.berth-tmp`) : ctx.out;
      await pipeline(res, target, { end: !!o.output });
      if (o.output) {
        const { rename } = await import('node:fs/promises');
        await rename(`${o.output}.berth-tmp`, o.output);
      }
    });
}

export function loadCommand(ctx: CliContext): Command {
  return new Command('load')
    .description('Load an image from a tar archive or STDIN')
    .option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output')
    .option('--platform <string>', 'Load only the given platform variant')
    .action(async (o: { input?: string; quiet?: boolean }) => {
      const input = o.input ? createReadStream(o.input) : process.stdin;
      if (!o.input && process.stdin.isTTY) throw new ExitError(1, 'requested load from stdin, but stdin is empty');
      const c = await ctx.client();
      const res = await c.call('POST', '/images/load', {
        query: { quiet: o.quiet || !ctx.out.isTTY ? 1 : 0 },
        stream: input,
        headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' },
      });
      for await (const m of jsonMessages(res)) {
        throwIfError(m);
        if (m.stream) ctx.out.write(m.stream);
        else if (m.status && !o.quiet) ctx.out.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
      }
    });
}
