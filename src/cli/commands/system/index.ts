/** The `system` command group and the top-level `version`, `info`, `inspect`. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { inspectCommand } from '../container/inspect.js';
import { dfCommand } from './df.js';
import { dialStdioCommand } from './dial-stdio.js';
import { eventsCommand } from './events.js';
import { infoCommand } from './info.js';
import { systemPruneCommand } from './prune.js';
import { versionCommand } from './version.js';

export function systemCommands(ctx: CliContext): Command[] {
  return [infoCommand(ctx), eventsCommand(ctx), dfCommand(ctx), systemPruneCommand(ctx), dialStdioCommand(ctx)];
}

export function systemShortcuts(ctx: CliContext): Command[] {
  return [versionCommand(ctx), infoCommand(ctx), inspectCommand(ctx), eventsCommand(ctx)];
}
