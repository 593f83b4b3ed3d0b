/**
 * `berth`: the client. Every docker command users know, with the same
 * flags, output and exit codes, talking to berthd over the Engine API.
 */
import { Command, CommanderError } from 'commander';
import { isBerthError } from '../errdefs/index.js';
import { DaemonUnreachableError } from '../client/engine-client.js';
import { StreamError } from '../client/json-stream.js';
import { FormatError } from './format/formatter.js';
import { CliContext, ExitError, type GlobalOptions } from './context.js';
import { containerCommands, containerShortcuts } from './commands/container/index.js';
import { imageCommands, imageShortcuts } from './commands/image/index.js';
import { networkCommands } from './commands/network/index.js';
import { volumeCommands } from './commands/volume/index.js';
import { systemCommands, systemShortcuts } from './commands/system/index.js';
import { CLIENT_VERSION } from './commands/system/version.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('berth')
    .description('A self-sufficient runtime for containers')
    .usage('[OPTIONS] COMMAND')
    .option('-H, --host <string>', 'Daemon socket to connect to')
    .option('-D, --debug', 'Enable debug mode')
    .version(`berth version ${CLIENT_VERSION}`, '-v, --version', 'Print version information and quit')
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride();
  const ctx = new CliContext(() => program.opts<GlobalOptions>());

  const groups: [string, string, Command[]][] = [
    ['container', 'Manage containers', containerCommands(ctx)],
    ['image', 'Manage images', imageCommands(ctx)],
    ['network', 'Manage networks', networkCommands(ctx)],
    ['volume', 'Manage volumes', volumeCommands(ctx)],
    ['system', 'Manage berth', systemCommands(ctx)],
  ];
  for (const [name, description, cmds] of groups) {
    const group = new Command(name).description(description).enablePositionalOptions().exitOverride();
    for (const c of cmds) group.addCommand(c.exitOverride());
    program.addCommand(group);
  }
  for (const c of [...containerShortcuts(ctx), ...imageShortcuts(ctx), ...systemShortcuts(ctx)]) program.addCommand(c.exitOverride());

  try {
    await program.parseAsync(argv, { from: 'user' });
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
