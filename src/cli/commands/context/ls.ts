/** `berth context ls`: the stored contexts and the default one, the current one starred. */
import { Command } from 'commander';
import { isBerthError } from '../../../errdefs/index.js';
import type { CliContext } from '../../context.js';
import { DEFAULT_CONTEXT, naturalCompare } from '../../config/context-store.js';
import { DEFAULT_DESCRIPTION, defaultEndpoint, envHost } from '../../config/endpoint.js';
import { ellipsis, renderList } from '../../format/formatter.js';

interface Row {
  Current: boolean;
  Description: string;
  DockerEndpoint: string;
  Error: string;
  Name: string;
}

const MAX_ERROR = 45;
const DEFAULT_FORMAT = 'table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}';
const HEADERS = { Name: 'NAME', Description: 'DESCRIPTION', DockerEndpoint: 'DOCKER ENDPOINT', Error: 'ERROR' };

export function overridesWarning(env: NodeJS.ProcessEnv, target = 'a context'): string | undefined {
  const name = env.BERTH_HOST ? 'BERTH_HOST' : env.DOCKER_HOST ? 'DOCKER_HOST' : undefined;
  if (!name) return undefined;
  return `Warning: ${name} environment variable overrides the active context. To use ${target}, either set the global --context flag, or unset ${name} environment variable.\n`;
}

export function contextLsCommand(ctx: CliContext): Command {
  return new Command('ls')
    .alias('list')
    .description('List contexts')
    .option('--format <string>', "Format output using a custom template: 'table', 'json' or a Go template")
    .option('-q, --quiet', 'Only show context names')
    .action(async (f: { format?: string; quiet?: boolean }) => {
      const current = await ctx.currentContext();
      const store = ctx.contextStore();
      const rows: Row[] = [];
      for (const meta of await store.list()) {
        const ep = meta.Endpoints.docker;
        rows.push({
          Current: meta.Name === current,
          Description: typeof meta.Metadata.Description === 'string' ? meta.Metadata.Description : '',
          DockerEndpoint: ep?.Host ?? '',
          Error: ep ? '' : 'cannot find docker endpoint in context',
          Name: meta.Name,
        });
      }
      const d = await defaultEndpoint(ctx.globals(), ctx.env, ctx.configDir()).catch(() => undefined);
      rows.push({ Current: current === DEFAULT_CONTEXT, Description: DEFAULT_DESCRIPTION, DockerEndpoint: d?.host ?? envHost(ctx.env) ?? '', Error: '', Name: DEFAULT_CONTEXT });
      if (!rows.some((r) => r.Current)) {
        const error = await store.get(current).then(() => '', (err: unknown) => (isBerthError(err) ? err.message : String(err)));
        rows.push({ Current: true, Description: '', DockerEndpoint: '', Error: error, Name: current });
      }
      rows.sort((a, b) => naturalCompare(a.Name, b.Name));
      for (const r of rows) r.Error = ellipsis(r.Error, MAX_ERROR);
      ctx.out.write(renderList({
        format: f.format, defaultFormat: DEFAULT_FORMAT, quiet: !!f.quiet, quietFormat: '{{.Name}}', quietOverridesFormat: true,
        rows, headers: HEADERS, typeName: '*formatter.clientContextContext',
      }));
      const warning = overridesWarning(ctx.env);
      if (warning) ctx.err.write(warning);
    });
}
