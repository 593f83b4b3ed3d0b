/** The `container` command group and docker's top-level shortcuts for it. */
import { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { attachCommand } from './attach.js';
import { cpCommand } from './cp.js';
import { createCommand } from './create.js';
import { execCommand } from './exec.js';
import { commitCommand, diffCommand, exportCommand } from './filesystem.js';
import { inspectCommand } from './inspect.js';
import { killCommand, rmCommand, startCommand, stopCommand, waitCommand } from './lifecycle.js';
import { logsCommand } from './logs.js';
import { psCommand } from './ps.js';
import { runCommand } from './run.js';
import { pauseCommand, portCommand, pruneCommand, renameCommand, topCommand, updateCommand } from './simple-verbs.js';
import { statsCommand } from './stats.js';

/** Subcommands of `berth container`. */
export function containerCommands(ctx: CliContext): Command[] {
  return [
    runCommand(ctx), createCommand(ctx), startCommand(ctx), stopCommand(ctx, 'stop'), stopCommand(ctx, 'restart'),
    killCommand(ctx), rmCommand(ctx), waitCommand(ctx), logsCommand(ctx), psCommand(ctx, 'ls').alias('list').alias('ps'),
    inspectCommand(ctx, ['container']), execCommand(ctx), attachCommand(ctx), pauseCommand(ctx, 'pause'), pauseCommand(ctx, 'unpause'),
    renameCommand(ctx), updateCommand(ctx), portCommand(ctx), topCommand(ctx), pruneCommand(ctx), statsCommand(ctx),
    diffCommand(ctx), exportCommand(ctx), commitCommand(ctx), cpCommand(ctx),
  ];
}

/** The same verbs at the top level (`berth run`, `berth ps`, ...). */
export function containerShortcuts(ctx: CliContext): Command[] {
  return [
    runCommand(ctx), createCommand(ctx), startCommand(ctx), stopCommand(ctx, 'stop'), stopCommand(ctx, 'restart'),
    killCommand(ctx), rmCommand(ctx), waitCommand(ctx), logsCommand(ctx), psCommand(ctx), execCommand(ctx), attachCommand(ctx),
    pauseCommand(ctx, 'pause'), pauseCommand(ctx, 'unpause'), renameCommand(ctx), updateCommand(ctx), portCommand(ctx), topCommand(ctx), statsCommand(ctx),
    diffCommand(ctx), exportCommand(ctx), commitCommand(ctx), cpCommand(ctx),
  ];
}
