import { Command } from 'commander';
import type { ContainerInspect } from '../../../api/types/index.js';
import { parseDetachKeys } from '../../../lib/detach-keys.js';
import { ExitError, type CliContext } from '../../context.js';
import { proxySignals } from './run.js';
import { pumpStreams } from './stream-io.js';

export function attachCommand(ctx: CliContext): Command {
  return new Command('attach')
    .description("Attach local standard input, output, and error streams to a running container")
    .argument('<container>')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--no-sig-proxy', 'Do not proxy all received signals to the process')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .action(async (ref: string, o: { stdin: boolean; sigProxy: boolean; detachKeys?: string }) => {
      const c = await ctx.client();
      const waitRes = await c.call('POST', `/containers/${encodeURIComponent(ref)}/wait`);
      const waited = (async () => {
        const chunks: Buffer[] = [];
        for await (const b of waitRes) chunks.push(b as Buffer);
        return JSON.parse(Buffer.concat(chunks).toString()) as { StatusCode: number };
      })();
      waited.catch(() => {});
      const info = await c.get<ContainerInspect>(`/containers/${encodeURIComponent(ref)}/json`);
      if (!info.State.Running) {
        waitRes.destroy();
        throw new ExitError(1, 'You cannot attach to a stopped container, start it first');
      }
      if (info.State.Paused) {
        waitRes.destroy();
        throw new ExitError(1, 'You cannot attach to a paused container, unpause it first');
      }
      const tty = info.Config.Tty;
      const stdin = o.stdin && info.Config.OpenStdin;
      const socket = await c.hijack(`/containers/${info.Id}/attach`, {
        query: { stream: 1, stdin: stdin ? 1 : 0, stdout: 1, stderr: 1, detachKeys: o.detachKeys },
      });
      const resize = (h: number, w: number) => void c.post(`/containers/${info.Id}/resize`, { query: { h, w } }).catch(() => {});
      if (tty && ctx.out.isTTY) resize(ctx.out.rows, ctx.out.columns);
      const stop = !tty && o.sigProxy ? proxySignals((sig) => void c.post(`/containers/${info.Id}/kill`, { query: { signal: sig } }).catch(() => {})) : () => {};
      try {
        const { detached } = await pumpStreams(socket, { tty, stdin, out: ctx.out, err: ctx.err, onResize: resize, detachKeys: parseDetachKeys(o.detachKeys) });
        if (detached) {
          waitRes.destroy();
          return;
        }
        const { StatusCode } = await waited;
        if (StatusCode) throw new ExitError(StatusCode);
      } finally {
        stop();
      }
    });
}
