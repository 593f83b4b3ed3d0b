import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { EventMessage } from '../../../api/types/index.js';
import { jsonMessages } from '../../../client/json-stream.js';
import { apiTimestamp } from '../container/logs.js';
import { collect, type CliContext } from '../../context.js';
import { renderInspect } from '../../format/formatter.js';

/** docker's default event line: `2026-11-22T10:00:00.123456789Z container start <id> (image=busybox, name=web)` */
export function eventLine(e: EventMessage): string {
  const ns = BigInt(e.timeNano);
  const iso = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  const attrs = Object.entries(e.Actor.Attributes).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(', ');
  return `${iso}.${frac}Z ${e.Type} ${e.Action} ${e.Actor.ID}${attrs ? ` (${attrs})` : ''}`;
}

export function eventsCommand(ctx: CliContext): Command {
  return new Command('events')
    .description('Get real time events from the server')
    .option('--since <string>', 'Show all events created since timestamp')
    .option('--until <string>', 'Stream events until this timestamp')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Format the output using the given Go template')
    .action(async (o: { since?: string; until?: string; filter: string[]; format?: string }) => {
      const c = await ctx.client();
      const res = await c.call('GET', '/events', { query: { since: apiTimestamp(o.since), until: apiTimestamp(o.until), filters: Filters.fromFlags(o.filter).toQuery() } });
      for await (const e of jsonMessages<EventMessage>(res)) {
        ctx.out.write(o.format ? renderInspect(o.format === 'json' ? '{{json .}}' : o.format, [e]) : eventLine(e) + '\n');
      }
    });
}
