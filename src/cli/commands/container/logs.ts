import { Command } from 'commander';
import type { ContainerInspect } from '../../../api/types/index.js';
import { StdDemuxer, StdStream } from '../../../api/stdcopy.js';
import type { CliContext } from '../../context.js';
import { timestampMs } from '../../../lib/go-time.js';

/** The CLI's `--since 10m` / RFC 3339 / unix time → the API's `<seconds>.<nanos>`. */
export function apiTimestamp(v: string | undefined, now = Date.now()): string | undefined {
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return v;
  const t = timestampMs(v, now);
  if (t === undefined) throw new Error(`invalid value for "since": ${v}`);
  return (t / 1000).toFixed(9);
}

export function logsCommand(ctx: CliContext): Command {
  return new Command('logs')
    .description('Fetch the logs of a container')
    .argument('<container>')
    .option('-f, --follow', 'Follow log output')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
    .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('--until <string>', 'Show logs before a timestamp or relative')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--details', 'Show extra details provided to logs')
    .action(async (ref: string, o: { follow?: boolean; tail: string; since?: string; until?: string; timestamps?: boolean; details?: boolean }) => {
      const c = await ctx.client();
      const info = await c.get<ContainerInspect>(`/containers/${encodeURIComponent(ref)}/json`);
      const res = await c.call('GET', `/containers/${info.Id}/logs`, {
        query: {
          stdout: 1, stderr: 1, tail: o.tail, follow: o.follow ? 1 : undefined, since: apiTimestamp(o.since),
          until: apiTimestamp(o.until), timestamps: o.timestamps ? 1 : undefined, details: o.details ? 1 : undefined,
        },
      });
      if (info.Config.Tty) {
        for await (const chunk of res) ctx.out.write(chunk as Buffer);
        return;
      }
      const demux = new StdDemuxer((s, p) => (s === StdStream.Stderr ? ctx.err : ctx.out).write(p));
      for await (const chunk of res) demux.push(chunk as Buffer);
    });
}
