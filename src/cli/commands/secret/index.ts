/**
 * `berth secret create|ls|inspect|rm` (docker secret's flags and output),
 * and the same verbs for configs (`swarmFileCommands('config')`, used by
 * commands/config): the two differ only in words, a driver column, and
 * configs showing their data.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { ConfigView, SecretView } from '../../../api/types/index.js';
import { humanDuration } from '../../../lib/units.js';
import { collect, ExitError, keyValues, type CliContext } from '../../context.js';
import { forEachRef, inspectEach } from '../../each.js';
import { renderList } from '../../format/formatter.js';

type View = SecretView | ConfigView;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** docker's `--pretty` inspect of a secret or config. */
function pretty(kind: 'secret' | 'config', v: View): string {
  const lines = [`ID:              ${v.ID}`, `Name:            ${v.Spec.Name}`];
  const labels = Object.entries(v.Spec.Labels ?? {});
  if (labels.length) lines.push('Labels:', ...labels.map(([k, val]) => ` - ${k}=${val}`));
  if (kind === 'secret') lines.push('Driver:          ');
  lines.push(`Created at:      ${v.CreatedAt}`, `Updated at:      ${v.UpdatedAt}`);
  if (kind === 'config') lines.push('Data:', Buffer.from((v as ConfigView).Spec.Data ?? '', 'base64').toString('utf8'));
  return lines.join('\n') + '\n';
}

export function swarmFileCommands(ctx: CliContext, kind: 'secret' | 'config'): Command[] {
  const Kind = kind === 'secret' ? 'Secret' : 'Config';
  const base = `/${kind}s`;

  const create = new Command('create')
    .description(`Create a ${kind} from a file or STDIN as content`)
    .argument(`<${kind}>`)
    .argument('[file|-]')
    .option('-l, --label <list>', `${Kind} labels`, collect, [])
    .option('--template-driver <string>', 'Template driver');
  if (kind === 'secret') create.option('-d, --driver <string>', 'Secret driver');
  create.action(async (name: string, file: string | undefined, o: { label: string[]; templateDriver?: string; driver?: string }) => {
    if (!file && !o.driver) throw new ExitError(1, `"docker ${kind} create" requires exactly 2 arguments.`);
    const data = file === '-' ? await readStdin() : file ? await readFile(file) : undefined;
    const c = await ctx.client();
    const res = await c.json<{ ID: string }>('POST', `${base}/create`, {
      body: {
        Name: name, Labels: keyValues(o.label), ...(data ? { Data: data.toString('base64') } : {}),
        ...(o.driver ? { Driver: { Name: o.driver } } : {}), ...(o.templateDriver ? { Templating: { Name: o.templateDriver } } : {}),
      },
    });
    ctx.print(res.ID);
  });

  const ls = new Command('ls').alias('list')
    .description(`List ${kind}s`)
    .option('-q, --quiet', 'Only display IDs')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .action(async (o: { quiet?: boolean; filter: string[]; format?: string }) => {
      const c = await ctx.client();
      const list = await c.get<View[]>(base, { filters: Filters.fromFlags(o.filter).toQuery() });
      const now = Date.now();
      const since = (t: string) => `${humanDuration(now - Date.parse(t))} ago`;
      ctx.out.write(renderList({
        format: o.format, quiet: o.quiet, quietFormat: '{{.ID}}',
        defaultFormat: kind === 'secret' ? 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}' : 'table {{.ID}}\t{{.Name}}\t{{.CreatedAt}}\t{{.UpdatedAt}}',
        headers: { ID: 'ID', Name: 'NAME', Driver: 'DRIVER', CreatedAt: 'CREATED', UpdatedAt: 'UPDATED', Labels: 'LABELS' },
        rows: [...list].sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name)).map((v) => ({
          ID: v.ID, Name: v.Spec.Name, Driver: '', CreatedAt: since(v.CreatedAt), UpdatedAt: since(v.UpdatedAt),
          Labels: Object.entries(v.Spec.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
        })),
      }));
    });

  const inspect = new Command('inspect')
    .description(`Display detailed information on one or more ${kind}s`)
    .argument(`<${kind}...>`)
    .option('-f, --format <string>', 'Format output using the given Go template')
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], o: { format?: string; pretty?: boolean }) => {
      const c = await ctx.client();
      const fetch = (r: string) => c.get<View>(`${base}/${encodeURIComponent(r)}`);
      if (!o.pretty) return inspectEach(ctx, refs, fetch, o.format);
      await forEachRef(ctx, refs, async (r) => {
        ctx.out.write(pretty(kind, await fetch(r)));
      });
    });

  const rm = new Command('rm').alias('remove')
    .description(`Remove one or more ${kind}s`)
    .argument(`<${kind}...>`)
    .action(async (refs: string[]) => {
      const c = await ctx.client();
      await forEachRef(ctx, refs, async (r) => {
        await c.delete(`${base}/${encodeURIComponent(r)}`);
        ctx.print(r);
      });
    });

  return [create, ls, inspect, rm];
}

export function secretCommands(ctx: CliContext): Command[] {
  return swarmFileCommands(ctx, 'secret');
}
