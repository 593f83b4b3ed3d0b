/** start, stop, restart, kill, rm, wait: verbs that act on a list of containers. */
import { Command } from 'commander';
import type { ContainerInspect } from '../../../api/types/index.js';
import { ExitError, type CliContext } from '../../context.js';
import { forEachRef } from '../../each.js';
import { pumpStreams } from './stream-io.js';
import { proxySignals } from './run.js';

export function startCommand(ctx: CliContext): Command {
  return new Command('start')
    .description('Start one or more stopped containers')
    .argument('<container...>')
    .option('-a, --attach', "Attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "Attach container's STDIN")
    .action(async (refs: string[], o: { attach?: boolean; interactive?: boolean }) => {
      const c = await ctx.client();
      if (!o.attach && !o.interactive) {
        return forEachRef(ctx, refs, async (ref) => {
          await c.post(`/containers/${encodeURIComponent(ref)}/start`);
          ctx.print(ref);
        });
      }
      if (refs.length > 1) throw new Error('you cannot start and attach multiple containers at once');
      const info = await c.get<ContainerInspect>(`/containers/${encodeURIComponent(refs[0]!)}/json`);
      const tty = info.Config.Tty;
      const stdin = !!o.interactive && info.Config.OpenStdin;
      const socket = await c.hijack(`/containers/${info.Id}/attach`, { query: { stream: 1, stdin: stdin ? 1 : 0, stdout: 1, stderr: 1 } });
      const waitRes = await c.call('POST', `/containers/${info.Id}/wait`, { query: { condition: info.HostConfig.AutoRemove ? 'removed' : 'next-exit' } });
      const chunks: Buffer[] = [];
      const waited = (async () => {
        for await (const b of waitRes) chunks.push(b as Buffer);
        return JSON.parse(Buffer.concat(chunks).toString()) as { StatusCode: number };
      })();
      waited.catch(() => {});
      await c.post(`/containers/${info.Id}/start`);
      const stop = tty ? () => {} : proxySignals((sig) => void c.post(`/containers/${info.Id}/kill`, { query: { signal: sig } }).catch(() => {}));
      try {
        const { detached } = await pumpStreams(socket, { tty, stdin, out: ctx.out, err: ctx.err });
        if (detached) return;
        throw new ExitError((await waited).StatusCode);
      } finally {
        stop();
      }
    });
}

export function stopCommand(ctx: CliContext, verb: 'stop' | 'restart'): Command {
  return new Command(verb)
    .description(verb === 'stop' ? 'Stop one or more running containers' : 'Restart one or more containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .option('-t, --timeout <seconds>', 'Seconds to wait before killing the container')
    .option('--time <seconds>', 'Seconds to wait before killing the container (deprecated)')
    .action(async (refs: string[], o: { signal?: string; timeout?: string; time?: string }) => {
      const c = await ctx.client();
      const t = o.timeout ?? o.time;
      await forEachRef(ctx, refs, async (ref) => {
        await c.post(`/containers/${encodeURIComponent(ref)}/${verb}`, { query: { t, signal: o.signal } });
        ctx.print(ref);
      });
    });
}

export function killCommand(ctx: CliContext): Command {
  return new Command('kill')
    .description('Kill one or more running containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'Signal to send to the container', 'KILL')
    .action(async (refs: string[], o: { signal: string }) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (ref) => {
        await c.post(`/containers/${encodeURIComponent(ref)}/kill`, { query: { signal: o.signal } });
        ctx.print(ref);
      });
    });
}

export function rmCommand(ctx: CliContext): Command {
  return new Command('rm')
    .description('Remove one or more containers')
    .argument('<container...>')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .option('-l, --link', 'Remove the specified link')
    .action(async (refs: string[], o: { force?: boolean; volumes?: boolean }) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (ref) => {
        await c.delete(`/containers/${encodeURIComponent(ref)}`, { force: o.force ? 1 : undefined, v: o.volumes ? 1 : undefined });
        ctx.print(ref);
      });
    });
}

export function waitCommand(ctx: CliContext): Command {
  return new Command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<container...>')
    .action(async (refs: string[]) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (ref) => {
        const r = await c.json<{ StatusCode: number }>('POST', `/containers/${encodeURIComponent(ref)}/wait`);
        ctx.print(String(r.StatusCode));
      });
    });
}
