/**
 * `berth console [--listen 127.0.0.1:PORT] [--open]`: serves the web console
 * for the current context from this process until interrupted, and prints
 * its URL with a one-time token. The server is loaded only by this command,
 * so other commands start no slower.
 */
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { InvalidParameter } from '../../../errdefs/index.js';
import type { CliContext } from '../../context.js';
import { credentialsFor, registryAuthHeader } from '../../registry-auth.js';

export const DEFAULT_LISTEN = '127.0.0.1:7474';
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** `host:port` or `[v6]:port`; the port may be 0 (any free one). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidParameter('cli.invalid_listen', `invalid --listen address ${JSON.stringify(value)}: want HOST:PORT`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function openBrowser(url: string): void {
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => {}); // no desktop here: the printed URL is enough
  child.unref();
}

export function consoleCommand(ctx: CliContext): Command {
  return new Command('console')
    .description('Serve the web console for the current context')
    .option('--listen <address>', 'Address to listen on (loopback unless you say otherwise)', DEFAULT_LISTEN)
    .option('--open', 'Open the console in the default browser')
    .action(async (o: { listen: string; open?: boolean }) => {
      const { host, port } = parseListen(o.listen);
      const client = await ctx.client();
      const config = await ctx.configFile();
      const { startConsole } = await import('../../../console/server/console-server.js');
      const running = await startConsole({ client, host: host === 'localhost' ? '127.0.0.1' : host, port, registryAuth: (image) => registryAuthHeader(config, image), registryCredentials: (registry) => credentialsFor(config, registry) });
      if (!LOOPBACK.has(host)) ctx.err.write(`WARNING: the console listens on ${host}, not only on this machine: anyone who gets the token can manage the daemon\n`);
      ctx.print(`berth console for context "${await ctx.currentContext()}" is at:`);
      ctx.print(`    ${running.url}`);
      ctx.print('The token works once. Press Ctrl-C to stop.');
      if (o.open) openBrowser(running.url);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await running.close();
    });
}
