/** The `image` command group and docker's top-level shortcuts for it. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { inspectCommand } from '../container/inspect.js';
import { bootstrapCommand } from './bootstrap.js';
import { importCommand } from './import.js';
import { historyCommand } from './history.js';
import { imagesCommand } from './ls.js';
import { imagePruneCommand } from './prune.js';
import { loadCommand, saveCommand } from './save-load.js';
import { buildCommand } from './build.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { rmiCommand, tagCommand } from './rm.js';

export function imageCommands(ctx: CliContext): Command[] {
  return [
    imagesCommand(ctx, 'ls').alias('list'), importCommand(ctx), rmiCommand(ctx, 'rm').alias('remove'), tagCommand(ctx),
    inspectCommand(ctx, ['image']), bootstrapCommand(ctx), historyCommand(ctx), saveCommand(ctx), loadCommand(ctx),
    imagePruneCommand(ctx), pullCommand(ctx), pushCommand(ctx), buildCommand(ctx),
  ];
}

export function imageShortcuts(ctx: CliContext): Command[] {
  return [imagesCommand(ctx), pullCommand(ctx), pushCommand(ctx), importCommand(ctx), rmiCommand(ctx), tagCommand(ctx), historyCommand(ctx), saveCommand(ctx), loadCommand(ctx)];
}
