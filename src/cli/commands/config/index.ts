/** `berth config create|ls|inspect|rm` (docker config's flags and output): the secret verbs with configs' words. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { swarmFileCommands } from '../secret/index.js';

export function configCommands(ctx: CliContext): Command[] {
  return swarmFileCommands(ctx, 'config');
}
