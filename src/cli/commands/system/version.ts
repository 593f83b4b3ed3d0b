import { Command } from 'commander';
import type { VersionResponse } from '../../../api/types/index.js';
import { API_VERSION } from '../../../api/version.js';
import { DaemonUnreachableError } from '../../../client/engine-client.js';
import { ExitError, type CliContext } from '../../context.js';
import { CLIENT_VERSION } from '../../client-version.js';

export { CLIENT_VERSION };

export function versionCommand(ctx: CliContext): Command {
  return new Command('version')
    .description('Show the berth version information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (o: { format?: string }) => {
      const client = {
        Platform: { Name: 'berth' }, Version: CLIENT_VERSION, ApiVersion: API_VERSION, DefaultAPIVersion: API_VERSION,
        GoVersion: `node ${process.version}`, Os: 'linux', Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      };
      let server: VersionResponse | undefined;
      let failure: Error | undefined;
      try {
        const c = await ctx.client();
        server = await c.get<VersionResponse>('/version');
        client.ApiVersion = c.version;
      } catch (err) {
        failure = err as Error;
      }
      if (o.format) {
        // the template engine loads only for --format: plain `version` is the CLI's start-up benchmark
        const { renderInspect } = await import('../../format/formatter.js');
        ctx.out.write(renderInspect(o.format, [{ Client: client, Server: server ?? null }]));
      } else {
        const lines = ['Client:', ` Version:           ${client.Version}`, ` API version:       ${client.ApiVersion}`, ` Node version:      ${process.version}`, ` OS/Arch:           ${client.Os}/${client.Arch}`];
        if (server) {
          const engine = server.Components.find((c) => c.Name === 'Engine')?.Details ?? {};
          lines.push('', `Server: ${server.Platform.Name}`, ' Engine:', `  Version:          ${server.Version}`,
            `  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})`, `  OS/Arch:          ${server.Os}/${server.Arch}`,
            `  Experimental:     ${engine.Experimental ?? 'false'}`);
          for (const comp of server.Components.filter((c) => c.Name !== 'Engine')) lines.push(` ${comp.Name}:`, `  Version:          ${comp.Version}`);
        }
        ctx.out.write(lines.join('\n') + '\n');
      }
      if (failure) {
        ctx.err.write(`${failure instanceof DaemonUnreachableError ? '' : 'Error response from daemon: '}${failure.message}\n`);
        throw new ExitError(1);
      }
    });
}
