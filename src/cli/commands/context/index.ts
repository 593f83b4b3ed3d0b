/** `berth context`: named daemon endpoints, shared with the docker CLI (see cli/config/context-store.ts). */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { contextCreateCommand } from './create.js';
import { contextInspectCommand } from './inspect.js';
import { contextLsCommand } from './ls.js';
import { contextRmCommand } from './rm.js';
import { contextShowCommand } from './show.js';
import { contextUpdateCommand } from './update.js';
import { contextUseCommand } from './use.js';

export function contextCommands(ctx: CliContext): Command[] {
  return [
    contextCreateCommand(ctx), contextInspectCommand(ctx), contextLsCommand(ctx), contextRmCommand(ctx),
    contextShowCommand(ctx), contextUpdateCommand(ctx), contextUseCommand(ctx),
  ];
}
