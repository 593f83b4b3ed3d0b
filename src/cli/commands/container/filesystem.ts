/** `diff`, `export` and `commit`: a container's filesystem, like docker's. */
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { collect, ExitError, type CliContext } from '../../context.js';

const KIND = ['C', 'A', 'D'];

export function diffCommand(ctx: CliContext): Command {
  return new Command('diff')
    .description("Inspect changes to files or directories on a container's filesystem")
    .argument('<container>')
    .action(async (ref: string) => {
      const c = await ctx.client();
      const changes = await c.get<{ Path: string; Kind: number }[] | null>(`/containers/${encodeURIComponent(ref)}/changes`);
      for (const ch of changes ?? []) ctx.print(`${KIND[ch.Kind] ?? '?'} ${ch.Path}`);
    });
}

export function exportCommand(ctx: CliContext): Command {
  return new Command('export')
    .description("Export a container's filesystem as a tar archive")
    .argument('<container>')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .action(async (ref: string, o: { output?: string }) => {
      if (!o.output && ctx.out.isTTY) throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const c = await ctx.client();
      const res = await c.call('GET', `/containers/${encodeURIComponent(ref)}/export`);
      if (!o.output) {
        await pipeline(res, ctx.out, { end: false });
        return;
      }
      await pipeline(res, createWriteStream(`${o.output}.berth-tmp`));
      await rename(`${o.output}.berth-tmp`, o.output);
    });
}

export function commitCommand(ctx: CliContext): Command {
  return new Command('commit')
    .description("Create a new image from a container's changes")
    .argument('<container>')
    .argument('[repository[:tag]]')
    .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <string>', 'Commit message')
    .option('-p, --pause [bool]', 'Pause container during commit', (v) => v !== 'false', true)
    .action(async (ref: string, target: string | undefined, o: { author?: string; change: string[]; message?: string; pause: boolean }) => {
      const c = await ctx.client();
      let repo: string | undefined;
      let tag: string | undefined;
      if (target) {
        const i = target.lastIndexOf(':');
        const hasTag = i > target.lastIndexOf('/');
        repo = hasTag ? target.slice(0, i) : target;
        tag = hasTag ? target.slice(i + 1) : undefined;
      }
      const res = await c.json<{ Id: string }>('POST', '/commit', {
        query: { container: ref, repo, tag, comment: o.message, author: o.author, changes: o.change, pause: o.pause ? undefined : 0 },
      });
      ctx.print(res.Id);
    });
}
