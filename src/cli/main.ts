/**
 * `berth`: the client. Every docker command users know, with the same
 * flags, output and exit codes, talking to berthd over the Engine API.
 */
import { Command, CommanderError } from 'commander';
import { isBerthError } from '../errdefs/index.js';
import { DaemonUnreachableError } from '../client/engine-client.js';
import { StreamError } from '../client/json-stream.js';
import { CliContext, ExitError, type GlobalOptions } from './context.js';
import { createCommand } from './commands/container/create.js';
import { inspectCommand } from './commands/container/inspect.js';
import { killCommand, rmCommand, startCommand, stopCommand, waitCommand } from './commands/container/lifecycle.js';
import { logsCommand } from './commands/container/logs.js';
import { psCommand } from './commands/container/ps.js';
import { runCommand } from './commands/container/run.js';
import { bootstrapCommand } from './commands/image/bootstrap.js';
import { importCommand } from './commands/image/import.js';
import { imagesCommand } from './commands/image/ls.js';
import { rmiCommand, tagCommand } from './commands/image/rm.js';
import { infoCommand } from './commands/system/info.js';
import { CLIENT_VERSION, versionCommand } from './commands/system/version.js';

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

  const container = new Command('container').description('Manage containers').enablePositionalOptions();
  const image = new Command('image').description('Manage images');
  const system = new Command('system').description('Manage berth');
  for (const [parent, cmds] of [
    [container, [runCommand(ctx), createCommand(ctx), startCommand(ctx), stopCommand(ctx, 'stop'), stopCommand(ctx, 'restart'), killCommand(ctx), rmCommand(ctx), waitCommand(ctx), logsCommand(ctx), psCommand(ctx, 'ls').alias('list').alias('ps'), inspectCommand(ctx, ['container'])]],
    [image, [imagesCommand(ctx, 'ls').alias('list'), importCommand(ctx), rmiCommand(ctx, 'rm').alias('remove'), tagCommand(ctx), inspectCommand(ctx, ['image']), bootstrapCommand(ctx)]],
    [system, [infoCommand(ctx)]],
  ] as const) {
    for (const c of cmds) parent.addCommand(c.exitOverride());
    program.addCommand(parent.exitOverride());
  }
  // docker's top-level shortcuts
  for (const c of [
    runCommand(ctx), createCommand(ctx), startCommand(ctx), stopCommand(ctx, 'stop'), stopCommand(ctx, 'restart'), killCommand(ctx),
    rmCommand(ctx), waitCommand(ctx), logsCommand(ctx), psCommand(ctx), inspectCommand(ctx), imagesCommand(ctx), importCommand(ctx),
    rmiCommand(ctx), tagCommand(ctx), versionCommand(ctx), infoCommand(ctx),
  ]) program.addCommand(c.exitOverride());

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
