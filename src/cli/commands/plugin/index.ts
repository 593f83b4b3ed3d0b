/** `berth plugin ls|inspect|create|enable|disable|set|rm|install|push` (docker plugin's flags and output). */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { Filters } from '../../../api/filters.js';
import type { PluginObject, PluginPrivilege } from '../../../api/types/index.js';
import { jsonMessages } from '../../../client/json-stream.js';
import { familiarString, fullName, parseReference, withDefaultTag } from '../../../oci/reference.js';
import { collect, ExitError, type CliContext } from '../../context.js';
import { forEachRef, inspectEach } from '../../each.js';
import { confirm } from '../../prompt.js';
import { renderList } from '../../format/formatter.js';
import { ProgressRenderer } from '../../progress.js';
import { registryAuthHeader } from '../../registry-auth.js';

const path = (name: string) => `/plugins/${name.split('/').map(encodeURIComponent).join('/')}`;

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export function pluginCommands(ctx: CliContext): Command[] {
  const ls = new Command('ls').alias('list')
    .description('List plugins')
    .option('-q, --quiet', 'Only display plugin IDs')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'enabled=true')", collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', "Don't truncate output")
    .action(async (o: { quiet?: boolean; filter: string[]; format?: string; trunc: boolean }) => {
      const c = await ctx.client();
      const list = await c.get<PluginObject[]>('/plugins', { filters: Filters.fromFlags(o.filter).toQuery() });
      ctx.out.write(renderList({
        format: o.format, quiet: o.quiet, quietFormat: '{{.ID}}', defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Description}}\t{{.Enabled}}',
        headers: { ID: 'ID', Name: 'NAME', Description: 'DESCRIPTION', Enabled: 'ENABLED', PluginReference: 'PLUGIN REFERENCE' },
        rows: list.map((p) => ({
          ID: o.trunc ? p.Id.slice(0, 12) : p.Id, Name: p.Name,
          Description: o.trunc ? truncate(p.Config.Description, 45) : p.Config.Description,
          Enabled: String(p.Enabled), PluginReference: p.PluginReference ?? '',
        })),
      }));
    });

  const inspect = new Command('inspect')
    .description('Display detailed information on one or more plugins')
    .argument('<plugin...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (names: string[], o: { format?: string }) => {
      const c = await ctx.client();
      await inspectEach(ctx, names, (n) => c.get<PluginObject>(`${path(n)}/json`), o.format);
    });

  const create = new Command('create')
    .description('Create a plugin from a rootfs and configuration. Plugin data directory must contain config.json and rootfs directory.')
    .argument('<plugin>').argument('<plugin-data-dir>')
    .option('--compress', 'Compress the context using gzip')
    .action(async (name: string, dir: string, o: { compress?: boolean }) => {
      const abs = resolve(dir);
      if (!(await stat(abs).catch(() => undefined))?.isDirectory()) throw new ExitError(1, `context must be a directory`);
      if (!(await stat(resolve(abs, 'config.json')).catch(() => undefined))?.isFile()) throw new ExitError(1, `config.json not found in ${abs}`);
      if (!(await stat(resolve(abs, 'rootfs')).catch(() => undefined))?.isDirectory()) throw new ExitError(1, `rootfs not found in ${abs}`);
      const tar = spawn('tar', ['-c', '-f', '-', ...(o.compress ? ['-z'] : []), '-C', abs, '--numeric-owner', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const c = await ctx.client();
      await c.post('/plugins/create', { query: { name }, stream: tar.stdout, headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } });
      ctx.print(name);
    });

  const enable = new Command('enable')
    .description('Enable a plugin')
    .argument('<plugin>')
    .option('--timeout <int>', 'HTTP client timeout (in seconds)', '30')
    .action(async (name: string, o: { timeout: string }) => {
      const c = await ctx.client();
      await c.post(`${path(name)}/enable`, { query: { timeout: Number(o.timeout) } });
      ctx.print(name);
    });

  const disable = new Command('disable')
    .description('Disable a plugin')
    .argument('<plugin>')
    .option('-f, --force', 'Force the disable of an active plugin')
    .action(async (name: string, o: { force?: boolean }) => {
      const c = await ctx.client();
      await c.post(`${path(name)}/disable`, { query: { force: o.force ? 1 : undefined } });
      ctx.print(name);
    });

  const set = new Command('set')
    .description('Change settings for a plugin')
    .argument('<plugin>').argument('<key=value...>')
    .action(async (name: string, pairs: string[]) => {
      const c = await ctx.client();
      await c.post(`${path(name)}/set`, { body: pairs });
    });

  const rm = new Command('rm').alias('remove')
    .description('Remove one or more plugins')
    .argument('<plugin...>')
    .option('-f, --force', 'Force the removal of an active plugin')
    .action(async (names: string[], o: { force?: boolean }) => {
      const c = await ctx.client();
      await forEachRef(ctx, names, async (n) => {
        await c.delete(path(n), { force: o.force ? 1 : undefined });
        ctx.print(n);
      });
    });

  const install = new Command('install')
    .description('Install a plugin')
    .argument('<plugin>').argument('[key=value...]')
    .option('--alias <string>', 'Local name for plugin')
    .option('--disable', 'Do not enable the plugin on install')
    .option('--grant-all-permissions', 'Grant all permissions necessary to run the plugin')
    .action(async (remote: string, args: string[], o: { alias?: string; disable?: boolean; grantAllPermissions?: boolean }) => {
      const c = await ctx.client();
      const ref = withDefaultTag(parseReference(remote));
      const auth = registryAuthHeader(await ctx.configFile(), fullName(ref));
      const privileges = await c.json<PluginPrivilege[]>('GET', '/plugins/privileges', { query: { remote }, headers: { 'X-Registry-Auth': auth } });
      if (!o.grantAllPermissions && privileges.length) {
        ctx.out.write(`Plugin "${remote}" is requesting the following privileges:\n`);
        for (const p of privileges) ctx.out.write(` - ${p.Name}: [${p.Value.join(' ')}]\n`);
        if (!(await confirm(ctx, 'Do you grant the above permissions?'))) throw new ExitError(1, 'permission denied');
      }
      const res = await c.call('POST', '/plugins/pull', {
        query: { remote, name: o.alias ?? remote }, body: privileges, headers: { 'X-Registry-Auth': auth },
      });
      const local = String(res.headers['docker-plugin-name'] ?? o.alias ?? familiarString(ref));
      const view = new ProgressRenderer(ctx.out);
      for await (const m of jsonMessages(res)) view.write(m);
      if (args.length) await c.post(`${path(local)}/set`, { body: args });
      if (!o.disable) await c.post(`${path(local)}/enable`, { query: { timeout: 0 } });
      ctx.print(`Installed plugin ${remote}`);
    });

  const push = new Command('push')
    .description('Push a plugin to a registry')
    .argument('<plugin[:tag]>')
    .option('--disable-content-trust', 'Skip image signing (default true)')
    .action(async (name: string) => {
      const c = await ctx.client();
      const ref = withDefaultTag(parseReference(name));
      const res = await c.call('POST', `${path(familiarString(ref))}/push`, { headers: { 'X-Registry-Auth': registryAuthHeader(await ctx.configFile(), fullName(ref)) } });
      const view = new ProgressRenderer(ctx.out);
      for await (const m of jsonMessages(res)) view.write(m);
    });

  return [ls, inspect, create, enable, disable, set, rm, install, push];
}
