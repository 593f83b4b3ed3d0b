/**
 * `berth`: the client. Every docker command users know, with the same
 * flags, output and exit codes, talking to berthd over the Engine API.
 */
import { Command, CommanderError, Option } from 'commander';
import { isBerthError } from '../errdefs/index.js';
import { DaemonUnreachableError } from '../client/engine-client.js';
import { StreamError } from '../client/json-stream.js';
import { FormatError } from './format/format-error.js';
import { CliContext, ExitError, type GlobalOptions } from './context.js';
import { rewriteBooleanGlobals } from './global-flags.js';
import { loadCommands, pingsEarly } from './command-table.js';
import { CLIENT_VERSION } from './client-version.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('berth')
    .description('A self-sufficient runtime for containers')
    .usage('[OPTIONS] COMMAND')
    .option('--config <string>', 'Location of client config files (default: $BERTH_CONFIG, $DOCKER_CONFIG or ~/.docker)')
    .option('-c, --context <string>', 'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "berth context use")')
    .option('-H, --host <string>', 'Daemon socket to connect to')
    .option('-D, --debug', 'Enable debug mode')
    .option('-l, --log-level <string>', 'Set the logging level ("debug", "info", "warn", "error", "fatal")')
    .option('--tls', 'Use TLS; implied by --tlsverify')
    .addOption(new Option('--no-tls').hideHelp())
    .option('--tlsverify', 'Use TLS and verify the remote')
    .addOption(new Option('--no-tlsverify').hideHelp())
    .option('--tlscacert <string>', 'Trust certs signed only by this CA (default "$DOCKER_CERT_PATH/ca.pem")')
    .option('--tlscert <string>', 'Path to TLS certificate file (default "$DOCKER_CERT_PATH/cert.pem")')
    .option('--tlskey <string>', 'Path to TLS key file (default "$DOCKER_CERT_PATH/key.pem")')
    .version(`berth version ${CLIENT_VERSION}`, '-v, --version', 'Print version information and quit')
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride();
  const given = () => new Set(Object.keys(program.opts()).filter((k) => program.getOptionValueSource(k) === 'cli'));
  const ctx = new CliContext(() => ({ ...program.opts<GlobalOptions>(), given: given() }));
  program.hook('preAction', async () => {
    await ctx.currentContext().catch((err: Error) => {
      throw new ExitError(1, err.message); // --context with -H: refused before any command runs
    });
  });

  const args = rewriteBooleanGlobals(argv);
  if (pingsEarly(args)) void ctx.pingEarly();
  try {
    for (const c of await loadCommands(ctx, args)) program.addCommand(c.exitOverride());
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(ctx, err);
  } finally {
    ctx.close();
  }
}

function reportError(ctx: CliContext, err: unknown): number {
  if (err instanceof ExitError) {
    if (err.message) ctx.err.write(err.message + '\n');
    return err.status;
  }
  if (err instanceof CommanderError) {
    // help and version end with exit code 0; usage errors were printed by commander
    return err.exitCode === 0 ? 0 : 1;
  }
  if (err instanceof FormatError) {
    ctx.out.write(err.output);
    ctx.err.write(`${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof StreamError) {
    ctx.err.write(`${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof DaemonUnreachableError) {
    ctx.err.write(`${err.message}\n`);
    return 1;
  }
  const fromDaemon = isBerthError(err) && err.code.startsWith('api.');
  ctx.err.write(`${fromDaemon ? 'Error response from daemon: ' : 'Error: '}${(err as Error).message}\n`);
  return 1;
}
