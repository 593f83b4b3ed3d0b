/** `berth certs`: test certificates for the Engine API over TLS. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { certsCreateCommand } from './create.js';

export function certsCommands(ctx: CliContext): Command[] {
  return [certsCreateCommand(ctx)];
}
